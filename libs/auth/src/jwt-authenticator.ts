import { Injectable } from '@nestjs/common';
import { ProblemException } from '@girder/errors';
import { Authenticator, type AuthenticationRequest, type CurrentUser } from '@girder/permissions';
import { UsersService } from '@girder/users';
import passport from 'passport';
import { JWT_STRATEGY } from './jwt.strategy';

const invalidToken = () =>
  new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');

/**
 * The `Authenticator` the permissions guard and the queue dashboard use: bearer JWTs through
 * the passport strategy (signature, expiry, then the revocation check), on plain request
 * data; and email + password through the users library for sign-ins without a token.
 */
@Injectable()
export class JwtAuthenticator extends Authenticator {
  constructor(private readonly users: UsersService) {
    super();
  }

  async verifyPassword(email: string, password: string): Promise<CurrentUser | null> {
    const user = await this.users.verifyCredentials(email, password);
    // Not a session: nothing to revoke; callers re-check the password (the dashboard every 15 s).
    return user
      ? {
          id: user.id,
          role: user.role,
          sessionId: 'password',
          emailVerified: user.emailVerifiedAt !== null,
        }
      : null;
  }

  async isEmailVerified(user: CurrentUser): Promise<boolean> {
    return user.emailVerified || this.users.isEmailVerified(user.id);
  }

  authenticate(request: AuthenticationRequest): Promise<CurrentUser | null> {
    if (request.headers.authorization === undefined) return Promise.resolve(null);
    return new Promise<CurrentUser>((resolve, reject) => {
      const done = (error: unknown, user?: CurrentUser | false) => {
        // A ProblemException from the strategy (TOKEN_REVOKED) keeps its code.
        if (error instanceof Error) reject(error);
        else if (error || !user) reject(invalidToken());
        else resolve(user);
      };
      const authenticate = passport.authenticate(JWT_STRATEGY, { session: false }, done) as (
        request: unknown,
        response: unknown,
        next: (error?: unknown) => void,
      ) => void;
      authenticate(request, {}, (error) => done(error ?? invalidToken()));
    });
  }
}

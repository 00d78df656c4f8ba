import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ProblemException } from '@girder/errors';
import { Authenticator, type CurrentUser, type RequestWithUser } from '@girder/permissions';
import { UsersService } from '@girder/users';

/** Runs the passport JWT strategy and turns its failures into problem responses. */
class JwtPassportGuard extends AuthGuard('jwt') {
  override handleRequest<User = CurrentUser>(error: unknown, user: User | false): User {
    if (error instanceof Error) throw error;
    if (error)
      throw new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');
    if (!user)
      throw new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');
    return user;
  }
}

/**
 * The `Authenticator` the permissions guard uses: bearer JWTs, checked for revocation; and
 * email + password through the users library for sign-ins without a token.
 */
@Injectable()
export class JwtAuthenticator extends Authenticator {
  private readonly guard = new JwtPassportGuard();

  constructor(private readonly users: UsersService) {
    super();
  }

  async verifyPassword(email: string, password: string): Promise<CurrentUser | null> {
    const user = await this.users.verifyCredentials(email, password);
    // Not a session: nothing to revoke; callers re-check the password (the dashboard every 15 s).
    return user ? { id: user.id, role: user.role, sessionId: 'password' } : null;
  }

  async authenticate(context: ExecutionContext): Promise<CurrentUser | null> {
    const request = context
      .switchToHttp()
      .getRequest<RequestWithUser & { headers: Record<string, unknown> }>();
    if (request.headers.authorization === undefined) return null;
    await this.guard.canActivate(context);
    return request.user ?? null;
  }
}

import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ProblemException } from '@girder/errors';
import { USER_ROLES, type CurrentUser } from '@girder/permissions';
import type { KeyObject } from 'node:crypto';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AccessTokenClaims } from './access-token.service';
import { ACCESS_TOKEN_KEY } from './auth.constants';
import { SessionRevocations } from './revocations/session-revocations';

/**
 * Verifies the bearer token (HS256 only, so `alg: none` and key-confusion tokens fail), then
 * checks the in-memory set of revoked sessions (kept from PostgreSQL by SessionRevocations): a
 * logout is honoured before the token expires, with no network round trip.
 */
export const JWT_STRATEGY = 'jwt';

/**
 * Strategies of the applications alive in this process. Passport keeps one global registry, so
 * the last app created owns the name; when it closes, the previous app's strategy is put back
 * (otherwise a process that opened and closed a second app would verify with a dead Redis).
 */
const liveStrategies: JwtStrategy[] = [];

@Injectable()
export class JwtStrategy
  extends PassportStrategy(Strategy, JWT_STRATEGY)
  implements OnApplicationShutdown
{
  constructor(
    @Inject(ACCESS_TOKEN_KEY) key: KeyObject,
    private readonly revocations: SessionRevocations,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: jsonwebtoken would rebuild a key on every verify (30x slower).
      secretOrKey: key as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
    liveStrategies.push(this);
  }

  onApplicationShutdown(): void {
    const index = liveStrategies.lastIndexOf(this);
    if (index >= 0) liveStrategies.splice(index, 1);
    const previous = liveStrategies.at(-1);
    if (previous) passport.use(JWT_STRATEGY, previous);
  }

  async validate(claims: Partial<AccessTokenClaims>): Promise<CurrentUser> {
    const role = USER_ROLES.find((known) => known === claims.role);
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || !role) {
      throw new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');
    }
    if (this.revocations.isRevoked(claims.sid)) {
      throw new ProblemException('TOKEN_REVOKED', 'This session has been revoked.');
    }
    return { id: claims.sub, role, sessionId: claims.sid, emailVerified: claims.ev === true };
  }
}

import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '@girder/config';
import type { CurrentUser, UserRole } from '@girder/permissions';
import { randomUUID } from 'node:crypto';

export interface AccessTokenClaims {
  sub: string;
  role: UserRole;
  sid: string;
  /** Email verified when issued (only `true` is trusted as is; see IsVerified). */
  ev: boolean;
  jti: string;
  iat: number;
  exp: number;
}

@Injectable()
export class AccessTokenService {
  readonly ttlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    config: AppConfig,
  ) {
    this.ttlSeconds = config.get('JWT_ACCESS_TTL');
  }

  sign(
    user: Pick<CurrentUser, 'id' | 'role' | 'emailVerified'>,
    sessionFamily: string,
  ): Promise<string> {
    return this.jwt.signAsync(
      { role: user.role, sid: sessionFamily, ev: user.emailVerified },
      { subject: user.id, jwtid: randomUUID(), expiresIn: this.ttlSeconds },
    );
  }
}

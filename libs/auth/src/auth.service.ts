import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { Transactional } from '@girder/database';
import { ProblemException } from '@girder/errors';
import type { CurrentUser } from '@girder/permissions';
import { UsersService, type UserDto } from '@girder/users';
import { randomUUID } from 'node:crypto';
import { AccessTokenService } from './access-token.service';
import type { LoginDto, RegisterDto, SessionDto } from './dto/auth.dto';
import { newOpaqueToken, hashOpaqueToken } from './opaque-token';
import { SessionRevocations } from './revocations/session-revocations';
import { SessionsRepository } from './sessions.repository';

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

type Rotation =
  { kind: 'rotated'; session: SessionDto } | { kind: 'invalid' | 'revoked' | 'reused' };

@Injectable()
export class AuthService {
  private readonly refreshTtlMs: number;

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsRepository,
    private readonly revocations: SessionRevocations,
    private readonly accessTokens: AccessTokenService,
    config: AppConfig,
  ) {
    this.refreshTtlMs = config.get('JWT_REFRESH_TTL') * 1000;
  }

  /** The user and their first session commit together. */
  @Transactional()
  async register(input: RegisterDto, client: ClientInfo): Promise<SessionDto> {
    const user = await this.users.register(input);
    return this.issue(user, randomUUID(), client);
  }

  async login(input: LoginDto, client: ClientInfo): Promise<SessionDto> {
    const user = await this.users.verifyCredentials(input.email, input.password);
    if (!user) throw new ProblemException('INVALID_CREDENTIALS', 'The email or password is wrong.');
    return this.issue(user, randomUUID(), client);
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<SessionDto> {
    // The revocation of a reused token must commit, so the 401 is thrown after the transaction.
    const outcome = await this.rotate(refreshToken, client);
    switch (outcome.kind) {
      case 'rotated':
        return outcome.session;
      case 'reused':
        throw new ProblemException(
          'TOKEN_REVOKED',
          'This refresh token was already used: every session of the account is revoked.',
        );
      case 'revoked':
        throw new ProblemException('TOKEN_REVOKED', 'This session has been revoked.');
      default:
        throw new ProblemException('UNAUTHENTICATED', 'The refresh token is invalid or expired.');
    }
  }

  /** Revokes the caller's session: its access and refresh tokens stop working on every process. */
  @Transactional()
  async logout(user: CurrentUser): Promise<void> {
    await this.sessions.revokeFamily(user.sessionId);
    await this.revocations.revoke([user.sessionId]);
  }

  /** Revokes every session of the user, except `keepFamily` when given (the caller's own). */
  @Transactional()
  async revokeAllSessionsOf(userId: string, keepFamily?: string): Promise<void> {
    const families = await this.sessions.revokeAllOfUser(userId, keepFamily);
    await this.revocations.revoke(families);
  }

  @Transactional()
  private async rotate(refreshToken: string, client: ClientInfo): Promise<Rotation> {
    const current = await this.sessions.findByHashForUpdate(hashOpaqueToken(refreshToken));
    if (!current) return { kind: 'invalid' };
    if (current.revokedAt) return { kind: 'revoked' };
    if (current.usedAt) {
      await this.revokeAllSessionsOf(current.userId);
      return { kind: 'reused' };
    }
    if (current.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' };
    const identity = await this.users.findIdentity(current.userId);
    if (!identity?.isActive) return { kind: 'invalid' };

    await this.sessions.markUsed(current.id);
    const user = await this.users.get(current.userId);
    return { kind: 'rotated', session: await this.issue(user, current.family, client) };
  }

  private async issue(user: UserDto, family: string, client: ClientInfo): Promise<SessionDto> {
    const refreshToken = newOpaqueToken();
    await this.sessions.insert({
      userId: user.id,
      family,
      tokenHash: hashOpaqueToken(refreshToken),
      expiresAt: new Date(Date.now() + this.refreshTtlMs),
      ip: client.ip?.slice(0, 64) ?? null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    });
    return {
      accessToken: await this.accessTokens.sign(
        { id: user.id, role: user.role, emailVerified: user.emailVerifiedAt !== null },
        family,
      ),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokens.ttlSeconds,
      user,
    };
  }
}

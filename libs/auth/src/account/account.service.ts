import { Injectable } from '@nestjs/common';
import { Transactional } from '@girder/database';
import { ProblemException } from '@girder/errors';
import type { CurrentUser } from '@girder/permissions';
import { TasksService } from '@girder/tasks';
import { UsersService, normaliseEmail, type UserDto } from '@girder/users';
import { AuthService } from '../auth.service';
import { SessionRevocations } from '../revocations/session-revocations';
import { SessionsRepository } from '../sessions.repository';
import { AccountTokensRepository } from './account-tokens.repository';
import type { SessionInfoDto } from './dto/account.dto';
import { PASSWORD_RESET_MAIL_TASK } from './password-reset-mail.task';
import { VERIFY_EMAIL_MAIL_TASK } from './verify-email-mail.task';

/** The most sessions `GET /auth/sessions` lists (most recently used first). */
const SESSIONS_LISTED = 100;

const invalidToken = () =>
  new ProblemException(
    'TOKEN_INVALID',
    'This link is invalid, expired or already used: ask for a new one.',
  );

/** Email verification, password reset and the caller's sessions. */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: AccountTokensRepository,
    private readonly sessions: SessionsRepository,
    private readonly revocations: SessionRevocations,
    private readonly auth: AuthService,
    private readonly tasks: TasksService,
  ) {}

  /** Uses a verification token: the address it was sent to is verified, if still the user's. */
  @Transactional()
  async verifyEmail(token: string): Promise<UserDto> {
    const consumed = await this.tokens.consume(token, 'verify-email');
    if (!consumed) throw invalidToken();
    const user = await this.users.markEmailVerified(consumed.userId, consumed.email);
    if (!user) throw invalidToken();
    return user;
  }

  /** Queues a new verification mail (the worker skips it when the address is verified by then). */
  async resendVerification(user: CurrentUser): Promise<void> {
    await this.tasks.submitAsSystem(VERIFY_EMAIL_MAIL_TASK, { userId: user.id });
  }

  /**
   * Queues a reset mail for any address, known or not: the work done here is the same either
   * way, so neither the answer nor its timing tells whether the address has an account. The
   * worker sends the mail only to an active account.
   */
  async forgotPassword(email: string): Promise<void> {
    await this.tasks.submitAsSystem(PASSWORD_RESET_MAIL_TASK, { email: normaliseEmail(email) });
  }

  /**
   * Uses a reset token: sets the password, counts the address as verified, voids the user's
   * other reset tokens and ends every session (UsersService announces the revocation).
   */
  @Transactional()
  async resetPassword(token: string, password: string): Promise<void> {
    const consumed = await this.tokens.consume(token, 'reset-password');
    if (!consumed) throw invalidToken();
    if (!(await this.users.resetPassword(consumed.userId, consumed.email, password))) {
      throw invalidToken();
    }
    await this.tokens.voidOutstanding(consumed.userId, 'reset-password');
  }

  async listSessions(user: CurrentUser): Promise<SessionInfoDto[]> {
    const sessions = await this.sessions.listLive(user.id, SESSIONS_LISTED);
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      userAgent: session.userAgent,
      ip: session.ip,
      current: session.id === user.sessionId,
    }));
  }

  /** Ends one of the caller's sessions: its tokens are refused at once. Others' ids are 404. */
  @Transactional()
  async endSession(user: CurrentUser, sessionId: string): Promise<void> {
    if (!(await this.sessions.revokeFamilyOf(user.id, sessionId))) {
      throw new ProblemException('NOT_FOUND', 'You have no live session with this id.');
    }
    await this.revocations.revoke([sessionId]);
  }

  /** Ends every session of the caller, or every other one with `keepCurrent`. */
  async logoutAll(user: CurrentUser, keepCurrent: boolean): Promise<void> {
    await this.auth.revokeAllSessionsOf(user.id, keepCurrent ? user.sessionId : undefined);
  }
}

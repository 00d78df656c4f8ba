import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { Mailer, type OutgoingMail, type SentMail } from '@girder/mail';
import type { AccountTokenPurpose } from './account-token.entity';
import { AccountTokensRepository } from './account-tokens.repository';

export type AccountMailResult = SentMail | { skipped: string };

const HOUR_MS = 3_600_000;

/**
 * Sends an account mail carrying a new token. The token is made here, in the worker, so it
 * never travels through the queue; a retried mail gets a fresh one.
 */
@Injectable()
export class AccountMailSender {
  private readonly mailsPerHour: number;

  constructor(
    private readonly tokens: AccountTokensRepository,
    private readonly mailer: Mailer,
    config: AppConfig,
  ) {
    this.mailsPerHour = config.get('ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR');
  }

  /**
   * Issues a `purpose` token for the user's current address and sends the mail `compose` builds
   * around it, as `<name>.eml` in the outbox.
   */
  async send(
    user: { id: string; email: string },
    purpose: AccountTokenPurpose,
    ttlMs: number,
    compose: (token: string) => OutgoingMail,
    name: string,
  ): Promise<AccountMailResult> {
    // Whatever the HTTP limits let through (or Redis forgot), an inbox gets at most this many.
    if ((await this.tokens.countIssuedWithin(user.id, purpose, HOUR_MS)) >= this.mailsPerHour) {
      return { skipped: 'too many mails of this kind in the last hour' };
    }
    const token = await this.tokens.issue(user.id, user.email, purpose, ttlMs);
    return this.mailer.send(compose(token), name);
  }
}

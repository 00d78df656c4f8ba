import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { ProblemException } from '@girder/errors';
import { RateLimitStorage } from './rate-limit-storage';

export const LOGIN_LIMIT_NAME = 'login';
const MINUTE_MS = 60_000;

/** The counter key of password attempts by `identity` from `ip`, shared with the login throttler. */
export const loginLimitKey = (ip: string | undefined, identity: string): string =>
  `login:${ip ?? 'unknown'}|${identity}`;

/**
 * Password attempts outside `POST /auth/login` (the queue dashboard's sign-in, the current
 * password of a password change) count against the same limit and the same counters:
 * LOGIN_RATE_LIMIT_PER_MINUTE per client IP and identity, then 429 `RATE_LIMITED`.
 */
@Injectable()
export class LoginAttemptLimiter {
  private readonly limit: number;

  constructor(
    private readonly storage: RateLimitStorage,
    config: AppConfig,
  ) {
    this.limit = config.get('LOGIN_RATE_LIMIT_PER_MINUTE');
  }

  /**
   * Counts one attempt; throws the 429 problem (with Retry-After) once the limit is passed.
   * While Redis is unreachable the storage counts in process memory, so this never fails.
   */
  async hit(ip: string | undefined, identity: string): Promise<void> {
    const blocked = await this.storage.increment(
      loginLimitKey(ip, identity),
      MINUTE_MS,
      this.limit,
      MINUTE_MS,
      LOGIN_LIMIT_NAME,
    );
    if (blocked.isBlocked) {
      throw new ProblemException(
        'RATE_LIMITED',
        `Too many password attempts; retry in ${blocked.timeToBlockExpire} s.`,
        undefined,
        { 'Retry-After': String(blocked.timeToBlockExpire) },
      );
    }
  }
}

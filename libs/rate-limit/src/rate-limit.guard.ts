import { Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import { ProblemException } from '@girder/errors';
import type { Response } from 'express';

/**
 * The throttler guard with the contract's answers: `RateLimit-Limit`, `RateLimit-Remaining`
 * and `RateLimit-Reset` (seconds) on every limited response, and a 429 `RATE_LIMITED`
 * problem with `Retry-After` once a limit is hit. The storage (`RateLimitStorage`) never
 * fails because of Redis: while Redis is unreachable it counts in process memory.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = request;
    const { req, res } = this.getRequestResponse(context) as { req: object; res: Response };
    const name = throttler.name ?? 'default';
    const key = generateKey(context, await getTracker(req, context), name);

    const state = await this.storageService.increment(key, ttl, limit, blockDuration, name);

    const remaining = Math.max(0, limit - state.totalHits);
    // With two limits on a route (login), the headers describe the tighter one.
    const shown = Number(res.getHeader('RateLimit-Remaining') ?? Number.POSITIVE_INFINITY);
    if (remaining <= shown) {
      res.setHeader('RateLimit-Limit', limit);
      res.setHeader('RateLimit-Remaining', remaining);
      res.setHeader('RateLimit-Reset', state.timeToExpire);
    }
    if (state.isBlocked) {
      res.setHeader('Retry-After', state.timeToBlockExpire);
      throw new ProblemException(
        'RATE_LIMITED',
        name === 'login'
          ? `Too many login attempts for this email; retry in ${state.timeToBlockExpire} s.`
          : name === 'register'
            ? `Too many sign-ups from this address; retry in ${state.timeToBlockExpire} s.`
            : name.startsWith('account-mail')
              ? `Too many account mails requested; retry in ${state.timeToBlockExpire} s.`
              : `Too many requests; retry in ${state.timeToBlockExpire} s.`,
      );
    }
    return true;
  }
}

import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerRecord } from './memory-throttler-storage';

/**
 * The rate-limit counters, shared by the throttler guard and `LoginAttemptLimiter` (the
 * injection token; `rateLimitStorageProvider` picks the implementation once, from REDIS_URL):
 * - REDIS_URL set: `RedisRateLimitStorage`, counted in Redis by every API process together
 *   (in each process's memory while Redis is unreachable);
 * - REDIS_URL unset (PostgreSQL-only mode): `InProcessRateLimitStorage`, each process counts
 *   on its own, so N API processes let a client through up to N times a limit.
 */
export abstract class RateLimitStorage implements ThrottlerStorage {
  /** Whether hits are counted in memory *because Redis is unreachable* (never in memory mode). */
  abstract readonly degraded: boolean;

  abstract increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord>;
}

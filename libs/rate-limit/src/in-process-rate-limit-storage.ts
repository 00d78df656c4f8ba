import { MemoryThrottlerStorage, type ThrottlerRecord } from './memory-throttler-storage';
import { RateLimitStorage } from './rate-limit-storage';

/**
 * PostgreSQL-only mode: the counters live in this process's memory (`MemoryThrottlerStorage`,
 * the same semantics as the Redis script, bounded to 100,000 counters). Not an outage: no
 * warning, no `girder_degraded`.
 */
export class InProcessRateLimitStorage extends RateLimitStorage {
  readonly degraded = false;

  constructor(private readonly memory = new MemoryThrottlerStorage()) {
    super();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    return Promise.resolve(this.memory.hit(key, ttl, limit, blockDuration, throttlerName));
  }
}

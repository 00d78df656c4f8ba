import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { DependencyMetrics, MetricsRegistry } from '@girder/metrics';
import { RedisKeys, createRedisClient } from '@girder/redis';
import type Redis from 'ioredis';
import { Counter } from 'prom-client';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { FallbackThrottlerStorage } from './fallback-throttler-storage';
import type { ThrottlerRecord } from './memory-throttler-storage';
import { RateLimitStorage } from './rate-limit-storage';

/** The `dependency` label of `girder_degraded` while the counters are in memory. */
export const RATE_LIMIT_DEPENDENCY = 'rate_limit_redis';
/** A Redis command that has not answered by then counts as a failure (the request goes on). */
const COMMAND_TIMEOUT_MS = 500;
/** How long boot waits for the first connection, so the first requests count in Redis. */
const CONNECT_WAIT_MS = 1_000;

/**
 * The rate-limit counters in Redis mode (REDIS_URL set; `rateLimitStorageProvider` builds it): in Redis
 * (keys under `<REDIS_KEY_PREFIX>:throttle:`), so every API process counts together; while
 * Redis is unreachable, in this process's memory with the same semantics
 * (`FallbackThrottlerStorage`), so requests are still limited, per process, and never wait:
 * the client does not queue commands while disconnected and gives up on one after 500 ms.
 * The switch and the recovery are logged once each (`OutageLog`), shown as
 * `girder_degraded{dependency="rate_limit_redis"}` and counted by
 * `girder_rate_limit_memory_hits_total`. Nest closes the connection on shutdown.
 */
export class RedisRateLimitStorage
  extends RateLimitStorage
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly redis: Redis;
  private readonly counters: FallbackThrottlerStorage;
  private closing = false;
  private readonly outage = new OutageLog(
    new Logger('RateLimit'),
    'Rate limit counters in Redis (counted in process memory meanwhile)',
    'warn',
  );

  constructor(
    config: AppConfig,
    keys: RedisKeys,
    dependencies?: DependencyMetrics,
    registry?: MetricsRegistry,
  ) {
    super();
    const url = config.get('REDIS_URL');
    if (!url) throw new Error('RedisRateLimitStorage needs REDIS_URL');
    this.redis = createRedisClient(url, 'girder-throttle', {
      keyPrefix: keys.areaPrefix('throttle'),
      // Fail fast: a command while disconnected is refused at once, not queued.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    // Failures are reported by the fallback below, with the connection's last error.
    let lastError: Error | undefined;
    this.redis.on('error', (error: Error) => {
      lastError = error;
    });

    const memoryHits = registry
      ? new Counter({
          name: 'girder_rate_limit_memory_hits_total',
          help: 'Rate-limit hits counted in process memory because Redis was unreachable',
          registers: [registry],
        })
      : undefined;
    dependencies?.setDegraded(RATE_LIMIT_DEPENDENCY, false);
    const redisCounters = new ThrottlerStorageRedisService(this.redis);
    this.counters = new FallbackThrottlerStorage(
      {
        increment: (...hit) => redisCounters.increment(...hit),
        ping: () => this.redis.ping(),
      },
      {
        down: (error) => {
          this.outage.down(error);
          dependencies?.setDegraded(RATE_LIMIT_DEPENDENCY, true);
        },
        up: () => {
          this.outage.up();
          dependencies?.setDegraded(RATE_LIMIT_DEPENDENCY, false);
        },
        memoryHit: () => memoryHits?.inc(),
      },
    );
    // Connection lost: count in memory at once. Back: try Redis now, not on the next request.
    this.redis.on('close', () => {
      if (!this.closing) this.counters.degrade(lastError ?? new Error('connection closed'));
    });
    this.redis.on('ready', () => {
      lastError = undefined;
      this.counters.probe(true);
    });
  }

  /** Whether hits are counted in memory right now (Redis unreachable). */
  get degraded(): boolean {
    return this.counters.degraded;
  }

  /** Counts one hit; never fails because of Redis. */
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    return this.counters.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /** Waits (briefly) for the connection, so the first requests count in Redis, not in memory. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    const abort = new AbortController();
    await Promise.race([
      once(this.redis, 'ready', { signal: abort.signal }),
      once(this.redis, 'error', { signal: abort.signal }),
      sleep(CONNECT_WAIT_MS, undefined, { signal: abort.signal }),
    ]).catch(() => undefined);
    abort.abort();
  }

  onApplicationShutdown(): void {
    this.closing = true;
    this.redis.disconnect();
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { InjectRedis, type SharedRedis } from '@girder/redis';

/** A client PING checks: the shared Redis client by default, or any other (the task queues' own). */
export interface Pingable {
  ping(): Promise<unknown>;
}

/**
 * Redis is up when a PING answers within the timeout. Without REDIS_URL there is no shared
 * client (`configured` false): the readiness checks then leave `redis` out altogether.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @InjectRedis() private readonly redis: SharedRedis,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** Whether this process has a shared Redis client (REDIS_URL set). */
  get configured(): boolean {
    return this.redis !== null;
  }

  async pingCheck(
    key: string,
    client: Pingable | null = this.redis,
    timeoutMs = 1_000,
  ): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (!client) return indicator.down({ message: 'Redis is not configured (REDIS_URL unset)' });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}

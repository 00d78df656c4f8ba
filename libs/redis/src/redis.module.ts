import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import type Redis from 'ioredis';
import { createRedisClient } from './redis-connection';
import { REDIS_CLIENT, type SharedRedis } from './redis.constants';
import { RedisKeys } from './redis-keys';

@Injectable()
class RedisClientCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS_CLIENT) private readonly client: SharedRedis) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    // QUIT would wait for a connection that may never come back.
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch (error) {
      this.logger.warn(`Redis quit failed, disconnecting: ${(error as Error).message}`);
      this.client.disconnect();
    }
  }
}

function sharedClient(config: AppConfig): Redis | null {
  const url = config.get('REDIS_URL');
  // PostgreSQL-only mode: no client, no connection attempt.
  if (!url) return null;
  const client = createRedisClient(url, 'girder');
  // Without a listener, ioredis prints every reconnection error as unhandled.
  const outage = new OutageLog(new Logger('Redis'), 'Redis');
  client.on('error', (error: Error) => outage.down(error));
  client.on('ready', () => outage.up());
  return client;
}

/**
 * One shared ioredis client per process (`REDIS_CLIENT`), closed on shutdown; `null` when
 * REDIS_URL is unset (PostgreSQL-only mode), so no connection is ever opened.
 */
@Global()
@Module({
  providers: [
    { provide: REDIS_CLIENT, inject: [AppConfig], useFactory: sharedClient },
    RedisKeys,
    RedisClientCloser,
  ],
  exports: [REDIS_CLIENT, RedisKeys],
})
export class RedisModule {}

/** Injects the shared ioredis client, or `null` without REDIS_URL (`SharedRedis`). */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import Redis from 'ioredis';
import { createRedisClient } from './redis-connection';
import { REDIS_CLIENT } from './redis.constants';
import { RedisKeys } from './redis-keys';

@Injectable()
class RedisClientCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS_CLIENT) private readonly client: Redis) {}

  async onApplicationShutdown(): Promise<void> {
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

/** One shared ioredis client per process, closed on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const client = createRedisClient(config.get('REDIS_URL'), 'girder');
        // Without a listener, ioredis prints every reconnection error as unhandled.
        const outage = new OutageLog(new Logger('Redis'), 'Redis');
        client.on('error', (error: Error) => outage.down(error));
        client.on('ready', () => outage.up());
        return client;
      },
    },
    RedisKeys,
    RedisClientCloser,
  ],
  exports: [REDIS_CLIENT, RedisKeys],
})
export class RedisModule {}

/** Injects the shared ioredis client. */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

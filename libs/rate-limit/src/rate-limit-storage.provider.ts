import type { Provider } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { DependencyMetrics, MetricsRegistry } from '@girder/metrics';
import { RedisKeys } from '@girder/redis';
import { InProcessRateLimitStorage } from './in-process-rate-limit-storage';
import { RateLimitStorage } from './rate-limit-storage';
import { RedisRateLimitStorage } from './redis-rate-limit-storage';

/** The storage for this configuration: Redis when REDIS_URL is set, process memory otherwise. */
export const rateLimitStorageProvider: Provider = {
  provide: RateLimitStorage,
  inject: [
    AppConfig,
    RedisKeys,
    { token: DependencyMetrics, optional: true },
    { token: MetricsRegistry, optional: true },
  ],
  useFactory: (
    config: AppConfig,
    keys: RedisKeys,
    dependencies?: DependencyMetrics,
    registry?: MetricsRegistry,
  ): RateLimitStorage =>
    config.get('REDIS_URL')
      ? new RedisRateLimitStorage(config, keys, dependencies, registry)
      : new InProcessRateLimitStorage(),
};

import type { FactoryProvider } from '@nestjs/common';
import type { AppConfig } from '@girder/config';
import type { DependencyMetrics } from '@girder/metrics';
import { RedisKeys } from '@girder/redis';
import { InProcessRateLimitStorage } from './in-process-rate-limit-storage';
import { rateLimitStorageProvider } from './rate-limit-storage.provider';
import { RedisRateLimitStorage } from './redis-rate-limit-storage';

const createRedisClient = jest.fn(() => ({ on: jest.fn(), disconnect: jest.fn() }));
jest.mock('@girder/redis', () => ({
  ...jest.requireActual<object>('@girder/redis'),
  createRedisClient: () => createRedisClient(),
}));
jest.mock('@nest-lab/throttler-storage-redis', () => ({
  ThrottlerStorageRedisService: jest.fn(() => ({})),
}));

const configWith = (values: Record<string, unknown>) =>
  ({
    get: (key: string) => ({ REDIS_KEY_PREFIX: 'unit', ...values })[key],
  }) as unknown as AppConfig;

describe('rateLimitStorageProvider', () => {
  const { useFactory } = rateLimitStorageProvider as FactoryProvider;
  beforeEach(() => createRedisClient.mockClear());

  it('REDIS_URL unset: counts in process memory; no Redis client, never degraded', async () => {
    const dependencies = { setDegraded: jest.fn() } as unknown as DependencyMetrics;
    const config = configWith({});
    const storage = useFactory(
      config,
      new RedisKeys(config),
      dependencies,
    ) as InProcessRateLimitStorage;
    expect(storage).toBeInstanceOf(InProcessRateLimitStorage);
    expect(createRedisClient).not.toHaveBeenCalled();
    expect(dependencies.setDegraded).not.toHaveBeenCalled();
    const hit = () => storage.increment('ip:1', 60_000, 2, 60_000, 'default');
    expect((await hit()).isBlocked).toBe(false);
    expect((await hit()).isBlocked).toBe(false);
    expect(await hit()).toMatchObject({ isBlocked: true, totalHits: 3 });
    expect(storage.degraded).toBe(false);
  });

  it('REDIS_URL set: counts in Redis', () => {
    const config = configWith({ REDIS_URL: 'redis://queues:6379/0' });
    expect(useFactory(config, new RedisKeys(config))).toBeInstanceOf(RedisRateLimitStorage);
    expect(createRedisClient).toHaveBeenCalledTimes(1);
  });
});

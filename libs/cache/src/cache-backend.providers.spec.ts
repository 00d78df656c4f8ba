import type { FactoryProvider } from '@nestjs/common';
import type { AppConfig } from '@girder/config';
import type { TypeOrmTransactionHost } from '@girder/database';
import { RedisKeys } from '@girder/redis';
import { InvalidationTransport, NoSharedCacheStore, SharedCacheStore } from './cache-backend';
import { cacheBackendKind, cacheBackendProviders } from './cache-backend.providers';
import { PostgresInvalidationTransport } from './postgres-invalidation-transport';
import { RedisCacheStore, RedisInvalidationTransport } from './redis-cache-store';

const createClient = jest.fn((_url: string, _name: string) => ({ on: jest.fn() }));
jest.mock('@girder/redis', () => ({
  ...jest.requireActual('@girder/redis'),
  createRedisClient: (url: string, name: string) => createClient(url, name),
}));
jest.mock('cache-manager', () => ({ createCache: () => ({}) }));

const configWith = (values: Record<string, unknown>) =>
  ({
    get: (key: string) =>
      ({ REDIS_KEY_PREFIX: 'unit', DATABASE_URL: 'postgres://db/girder', ...values })[key],
  }) as unknown as AppConfig;

/** What the module's provider factories build for this configuration. */
function build(config: AppConfig) {
  const [storeProvider, transportProvider] = cacheBackendProviders as FactoryProvider[];
  const keys = new RedisKeys(config);
  const store = storeProvider.useFactory(config, keys) as SharedCacheStore;
  const txHost = { tx: { query: jest.fn() } } as unknown as TypeOrmTransactionHost;
  const transport = transportProvider.useFactory(
    config,
    store,
    keys,
    txHost,
  ) as InvalidationTransport;
  return { store, transport };
}

describe('cacheBackendProviders (the choice, made once from the configuration)', () => {
  beforeEach(() => createClient.mockClear());

  it('REDIS_URL unset: no shared level, invalidations over PostgreSQL, no Redis client at all', () => {
    const config = configWith({});
    expect(cacheBackendKind(config)).toBe('postgres');
    const { store, transport } = build(config);
    expect(store).toBeInstanceOf(NoSharedCacheStore);
    expect(transport).toBeInstanceOf(PostgresInvalidationTransport);
    expect(createClient).not.toHaveBeenCalled();
  });

  it('REDIS_URL set: Redis level and pub/sub, on CACHE_REDIS_URL when given', () => {
    const config = configWith({
      REDIS_URL: 'redis://queues:6379/0',
      CACHE_REDIS_URL: 'redis://cache:6379/1',
    });
    expect(cacheBackendKind(config)).toBe('redis');
    const { store, transport } = build(config);
    expect(store).toBeInstanceOf(RedisCacheStore);
    expect(transport).toBeInstanceOf(RedisInvalidationTransport);
    expect(createClient).toHaveBeenCalledWith('redis://cache:6379/1', 'girder-cache');
  });

  it('REDIS_URL alone: the cache uses it', () => {
    build(configWith({ REDIS_URL: 'redis://queues:6379/0' }));
    expect(createClient).toHaveBeenCalledWith('redis://queues:6379/0', 'girder-cache');
  });
});

import type { Provider } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { AppConfig } from '@girder/config';
import type { TypeOrmTransactionHost } from '@girder/database';
import { RedisKeys } from '@girder/redis';
import { InvalidationTransport, NoSharedCacheStore, SharedCacheStore } from './cache-backend';
import { PostgresInvalidationTransport } from './postgres-invalidation-transport';
import { RedisCacheStore, RedisInvalidationTransport } from './redis-cache-store';

export type CacheBackendKind = 'redis' | 'postgres';

/**
 * Where the cache's shared level and invalidations live, from the configuration alone: on
 * Redis (CACHE_REDIS_URL, else REDIS_URL) when REDIS_URL is set; otherwise in-process entries
 * only, with invalidations over PostgreSQL LISTEN/NOTIFY (PostgreSQL-only mode).
 */
export function cacheBackendKind(config: AppConfig): CacheBackendKind {
  return config.get('REDIS_URL') ? 'redis' : 'postgres';
}

/** The shared level and the invalidation transport, chosen once by `cacheBackendKind`. */
export const cacheBackendProviders: Provider[] = [
  {
    provide: SharedCacheStore,
    inject: [AppConfig, RedisKeys],
    useFactory: (config: AppConfig, keys: RedisKeys): SharedCacheStore =>
      cacheBackendKind(config) === 'redis'
        ? new RedisCacheStore((config.get('CACHE_REDIS_URL') ?? config.get('REDIS_URL'))!, keys)
        : new NoSharedCacheStore(),
  },
  {
    provide: InvalidationTransport,
    inject: [AppConfig, SharedCacheStore, RedisKeys, TransactionHost],
    useFactory: (
      config: AppConfig,
      store: SharedCacheStore,
      keys: RedisKeys,
      txHost: TypeOrmTransactionHost,
    ): InvalidationTransport =>
      cacheBackendKind(config) === 'redis'
        ? new RedisInvalidationTransport(store as RedisCacheStore, keys)
        : new PostgresInvalidationTransport(config.get('DATABASE_URL'), txHost),
  },
];

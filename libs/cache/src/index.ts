export { CacheKeyMaker } from './cache-key-maker';
export {
  CacheResponse,
  type CacheableRequest,
  type CacheResponseOptions,
} from './cache-response.decorator';
export { CacheResponseInterceptor } from './cache-response.interceptor';
export { CacheModule } from './cache.module';
export {
  InvalidationTransport,
  NoSharedCacheStore,
  SharedCacheStore,
  type InvalidationEvents,
} from './cache-backend';
export {
  cacheBackendKind,
  cacheBackendProviders,
  type CacheBackendKind,
} from './cache-backend.providers';
export { CacheService, prefixTag, type CacheEntryOptions, type CacheLookup } from './cache.service';
export {
  CACHE_INVALIDATION_CHANNEL,
  PostgresInvalidationTransport,
} from './postgres-invalidation-transport';
export { IoredisKeyvStore } from './ioredis-keyv-store';
export { RedisCacheStore, RedisInvalidationTransport } from './redis-cache-store';
export { Cached, type CachedOptions } from './cached.decorator';
export { stableSerialize } from './stable-serialize';

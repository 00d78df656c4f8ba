export { CacheKeyMaker } from './cache-key-maker';
export {
  CacheResponse,
  type CacheableRequest,
  type CacheResponseOptions,
} from './cache-response.decorator';
export { CacheResponseInterceptor } from './cache-response.interceptor';
export { CacheModule } from './cache.module';
export { CacheService, prefixTag, type CacheEntryOptions } from './cache.service';
export { Cached, type CachedOptions } from './cached.decorator';
export { stableSerialize } from './stable-serialize';

import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { cacheBackendProviders } from './cache-backend.providers';
import { CacheKeyMaker } from './cache-key-maker';
import { CacheResponseInterceptor } from './cache-response.interceptor';
import { CacheService } from './cache.service';
import { CachedMethodsExplorer } from './cached-methods.explorer';

/**
 * The cache: `CacheService`, `@Cached()` on provider methods and
 * `@CacheResponse()` on GET routes. Import once in each app's root module. `CacheKeyMaker` is
 * a provider: override it to change the key scheme. Its shared level and invalidation
 * transport (Redis, or PostgreSQL alone without REDIS_URL) come from `cacheBackendProviders`.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    ...cacheBackendProviders,
    CacheKeyMaker,
    CacheService,
    CacheResponseInterceptor,
    CachedMethodsExplorer,
  ],
  exports: [CacheService, CacheKeyMaker, CacheResponseInterceptor],
})
export class CacheModule {}

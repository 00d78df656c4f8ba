import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CacheKeyMaker } from './cache-key-maker';
import { CacheResponseInterceptor } from './cache-response.interceptor';
import { CacheService } from './cache.service';
import { CacheStore } from './cache-store';
import { CachedMethodsExplorer } from './cached-methods.explorer';
import { RedisCacheStore } from './redis-cache.store';

/**
 * The Redis-backed cache: `CacheService`, `@Cached()` on provider methods and
 * `@CacheResponse()` on GET routes. Import once in each app's root module. `CacheStore` and
 * `CacheKeyMaker` are providers: override them to change the backend or the key scheme.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    CacheKeyMaker,
    { provide: CacheStore, useClass: RedisCacheStore },
    CacheService,
    CacheResponseInterceptor,
    CachedMethodsExplorer,
  ],
  exports: [CacheService, CacheKeyMaker, CacheStore, CacheResponseInterceptor],
})
export class CacheModule {}

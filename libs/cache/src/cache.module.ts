import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CacheKeyMaker } from './cache-key-maker';
import { CacheResponseInterceptor } from './cache-response.interceptor';
import { CacheService } from './cache.service';
import { CachedMethodsExplorer } from './cached-methods.explorer';

/**
 * The Redis-backed cache: `CacheService`, `@Cached()` on provider methods and
 * `@CacheResponse()` on GET routes. Import once in each app's root module. `CacheKeyMaker` is
 * a provider: override it to change the key scheme.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [CacheKeyMaker, CacheService, CacheResponseInterceptor, CachedMethodsExplorer],
  exports: [CacheService, CacheKeyMaker, CacheResponseInterceptor],
})
export class CacheModule {}

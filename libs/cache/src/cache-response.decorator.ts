import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { MarkCached } from '@girder/http';
import type { CurrentUser } from '@girder/permissions';
import { CacheResponseInterceptor } from './cache-response.interceptor';

export const CACHE_RESPONSE_KEY = 'girder:cache-response';

/** What a `tags` function sees of the request. */
export interface CacheableRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  user?: CurrentUser;
}

export interface CacheResponseOptions {
  /**
   * `user`: one entry per caller (for routes like `/me` whose answer depends on who asks).
   * `public`: one entry shared by every caller allowed through the route's permissions.
   */
  scope: 'user' | 'public';
  /** Seconds; default CACHE_TTL_SECONDS. */
  ttl?: number;
  /** Tags of the entry, for invalidation, e.g. `({ params }) => [\`users:${params.id}\`]`. */
  tags?: (request: CacheableRequest) => string[];
}

/**
 * Caches a GET route's 200 body in Redis, answering `X-Cache: HIT` or `MISS`. Guards run
 * first, so permissions (and token revocation) are checked on every request, cached or not.
 */
export const CacheResponse = (options: CacheResponseOptions): MethodDecorator =>
  applyDecorators(
    SetMetadata(CACHE_RESPONSE_KEY, options),
    UseInterceptors(CacheResponseInterceptor),
    // Documents the X-Cache response header (never a request header).
    MarkCached(),
  );

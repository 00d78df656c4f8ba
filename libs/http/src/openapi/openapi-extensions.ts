import { ApiExtension } from '@nestjs/swagger';

/**
 * Markers that decorators of other libraries leave on an operation, read (and removed) when
 * the document is built: the decorator that changes a route's behaviour also says so in its
 * documentation, so the two cannot drift.
 */
export const OPENAPI_MARKERS = {
  /** `false` on routes the global rate limit skips (no 429, no RateLimit-* headers). */
  rateLimited: 'x-girder-rate-limited',
  /** `true` on routes whose 200 may come from the response cache (X-Cache header). */
  cached: 'x-girder-cached',
} as const;

export const MarkNotRateLimited = (): MethodDecorator & ClassDecorator =>
  ApiExtension(OPENAPI_MARKERS.rateLimited, false);

export const MarkCached = (): MethodDecorator & ClassDecorator =>
  ApiExtension(OPENAPI_MARKERS.cached, true);

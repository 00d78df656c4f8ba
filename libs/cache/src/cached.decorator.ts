import { SetMetadata } from '@nestjs/common';

export const CACHED_KEY = 'girder:cached';

export interface CachedOptions {
  /** First segment of the key, e.g. `reports.signups`; `invalidatePrefix(prefix)` drops them all. */
  prefix: string;
  /** Seconds; default CACHE_TTL_SECONDS. */
  ttl?: number;
  /** Tags from the arguments, e.g. `(id: string) => [\`users:${id}\`]`. */
  tags?: (...args: never[]) => string[];
}

/**
 * Caches an async provider method's result by its argument values (see `CacheKeyMaker`).
 * Results must survive JSON (return DTOs with ISO date strings, not entities). Providers'
 * methods are wrapped when the module starts (`CachedMethodsExplorer`), so it works on any
 * provider without extra wiring.
 */
export const Cached = (options: CachedOptions): MethodDecorator => SetMetadata(CACHED_KEY, options);

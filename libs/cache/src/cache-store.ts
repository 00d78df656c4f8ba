/**
 * Where cached values and their tags live. The default is `RedisCacheStore`; replace the
 * provider (`{ provide: CacheStore, useClass: … }`) for another backend or an in-memory
 * store in unit tests. Implementations may throw when their backend is down: `CacheService`
 * turns that into a cache bypass.
 */
export abstract class CacheStore {
  abstract get<T>(key: string): Promise<T | undefined>;

  /** Stores `value` for `ttlMs` and adds `key` to each tag's set. */
  abstract set(key: string, value: unknown, ttlMs: number, tags: readonly string[]): Promise<void>;

  /** Deletes every key stored under any of `tags`. */
  abstract invalidateTags(tags: readonly string[]): Promise<void>;
}

/** What goes over an invalidation channel: the tags and the keys that carried them. */
export interface InvalidationMessage {
  t: string[];
  k: string[];
}

/** What an `InvalidationTransport` tells the cache about its channel. */
export interface InvalidationEvents {
  /** A message published by any process, this one included. */
  message(text: string): void;
  /** Subscribed (again): from now on no message is missed. */
  listening(): void;
  /** The subscription dropped: messages may be lost from here on. */
  lost(error?: unknown): void;
}

/**
 * How invalidation messages travel between the processes of a deployment: Redis pub/sub
 * (`RedisInvalidationTransport`) or PostgreSQL LISTEN/NOTIFY (`PostgresInvalidationTransport`),
 * chosen once from the configuration (`cacheBackendProviders`). The rules that keep local
 * entries coherent (`CacheService`, `LocalCache`) are the same over both.
 */
export abstract class InvalidationTransport {
  /** Largest message (bytes of JSON text) `publish` takes; larger invalidations are split. */
  abstract readonly maxMessageBytes: number;

  /** Subscribes, and keeps doing so across reconnections, reporting to `events`. */
  abstract open(events: InvalidationEvents): void;

  /** Sends a message to every process (this one included). */
  abstract publish(text: string): Promise<void>;

  /**
   * Resolves once a probe sent now has come back over the subscription, which proves every
   * message published before it was delivered (both transports deliver in order).
   */
  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}

/** An entry as the shared level returns it. */
export interface SharedEntry<T> {
  value: T;
  /** `Date.now()` at which it expires, when known. */
  expires?: number;
}

/**
 * The level shared by every process, behind the in-process one: Redis
 * (`RedisCacheStore`), or none in PostgreSQL-only mode (`NoSharedCacheStore`: every process
 * has its in-process level only).
 */
export abstract class SharedCacheStore {
  /** Whether commands can be sent now (local entries are served only while it is). */
  abstract readonly ready: boolean;

  /** Connects, waiting at most `waitMs`; never fails (an unreachable store is retried). */
  abstract connect(waitMs: number): Promise<void>;

  abstract read<T>(key: string): Promise<SharedEntry<T> | undefined>;

  abstract write(
    key: string,
    value: unknown,
    ttlMs: number,
    tags: readonly string[],
  ): Promise<void>;

  /** Deletes the entries carrying any of the tags; returns their keys. */
  abstract invalidate(tags: readonly string[]): Promise<string[]>;

  abstract close(): Promise<void>;
}

/** PostgreSQL-only mode: nothing is shared; each process's in-process level is the cache. */
export class NoSharedCacheStore extends SharedCacheStore {
  readonly ready = true;

  async connect(): Promise<void> {}

  async read<T>(): Promise<SharedEntry<T> | undefined> {
    return undefined;
  }

  async write(): Promise<void> {}

  async invalidate(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {}
}

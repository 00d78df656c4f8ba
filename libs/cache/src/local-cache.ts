import { LRUCache } from 'lru-cache';

export interface LocalCacheOptions {
  /** Most entries kept; 0 turns the local level off. */
  maxEntries: number;
  /** Most bytes of JSON text kept (an entry larger than this is not kept at all). */
  maxBytes: number;
  /**
   * Entries are served only while Redis was heard (a PING on the invalidation connection
   * answered) for a PING sent at most this long ago: the bound on how late an invalidation
   * may arrive, whatever happens to the connection.
   */
  maxSilenceMs: number;
}

interface LocalEntry {
  /** The value's JSON text: every read parses a fresh copy, as a read from Redis does. */
  text: string;
  /** `Date.now()` at which the entry is gone: never later than its Redis copy. */
  expiresAt: number;
  tags: readonly string[];
}

/**
 * The in-process level in front of Redis: a bounded LRU (`lru-cache`) plus the rules that keep
 * it coherent with the other processes. It knows nothing of Redis; `CacheService` feeds it:
 *
 * - **Invalidations** (`invalidate`) from this process or announced by others on pub/sub drop
 *   the entries carrying the tags (a local tag index) or having the keys.
 * - **Fills race with invalidations**: a value read from (or written to) Redis is kept only if
 *   no invalidation of any kind arrived since its `ticket()` was taken before the Redis call,
 *   so an answer that left Redis before a delete can never be kept after it.
 * - **Listening**: entries are kept only while the invalidation subscription is up. When it
 *   drops (`stopListening`), messages may be lost, so everything is dropped and nothing is
 *   kept until it is back (`startListening`).
 * - **Hearing**: entries are served only while a PING sent on that connection at most
 *   `maxSilenceMs` ago has been answered (`heard`). Redis delivers messages in order on the
 *   connection, so every invalidation published before that PING has been applied: a silent
 *   or slow connection cannot make this process serve an entry more than `maxSilenceMs` after
 *   its invalidation. Silence alone loses no message, so it suspends serving, not the entries.
 */
export class LocalCache {
  private readonly entries?: LRUCache<string, LocalEntry>;
  private readonly keysByTag = new Map<string, Set<string>>();
  /** Bumped by every invalidation and every change of the subscription. */
  private generation = 0;
  private listening = false;
  /** `performance.now()` when the subscription last (re)started. */
  private listeningSince = Number.POSITIVE_INFINITY;
  /** `performance.now()` at which the last answered PING was sent. */
  private heardAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: LocalCacheOptions) {
    if (options.maxEntries <= 0) return;
    this.entries = new LRUCache<string, LocalEntry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.text.length + key.length,
      // Synchronous, on eviction, deletion, clear() and overwrite alike.
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  /** Whether the local level is configured at all. */
  get enabled(): boolean {
    return this.entries !== undefined;
  }

  /** How many entries are held (expired ones included until they are read or evicted). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Whether entries may be served now (listening, and Redis heard recently enough). */
  get serving(): boolean {
    return this.listening && performance.now() - this.heardAt <= this.options.maxSilenceMs;
  }

  /** A fresh copy of the entry, or undefined (none, expired, or not `serving`). */
  get<T>(key: string): T | undefined {
    if (!this.entries || !this.serving) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.text) as T;
  }

  /** Take before the Redis call whose answer may be `fill`ed in. */
  ticket(): number {
    return this.generation;
  }

  /**
   * Keeps `value` (a copy) until `expiresAt`, unless anything was invalidated since `ticket`
   * was taken or the subscription is down.
   */
  fill(
    ticket: number,
    key: string,
    value: unknown,
    expiresAt: number,
    tags: readonly string[],
  ): void {
    if (!this.entries || !this.listening || ticket !== this.generation) return;
    if (value === undefined || expiresAt <= Date.now()) return;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      return; // not JSON (a cycle, a bigint): Redis would not have it either
    }
    if (text === undefined) return;
    const entry: LocalEntry = { text, expiresAt, tags: [...new Set(tags)] };
    this.entries.set(key, entry);
    // Refused when larger than maxBytes; otherwise index it (an overwritten entry was unindexed).
    if (this.entries.peek(key) === entry) this.index(key, entry.tags);
  }

  /** Drops the entries carrying any of `tags` and those with any of `keys`. */
  invalidate(tags: readonly string[], keys: readonly string[]): void {
    this.generation += 1;
    if (!this.entries) return;
    for (const tag of tags) {
      const tagged = this.keysByTag.get(tag);
      if (tagged) for (const key of [...tagged]) this.entries.delete(key);
    }
    for (const key of keys) this.entries.delete(key);
  }

  /** Drops everything (an invalidation whose keys could not be learnt, an unreadable message). */
  clear(): void {
    this.generation += 1;
    this.entries?.clear();
    this.keysByTag.clear();
  }

  /** The subscription is (again) in place: from now on no invalidation is missed. */
  startListening(): void {
    this.clear();
    this.listening = true;
    this.listeningSince = performance.now();
    this.heardAt = Number.NEGATIVE_INFINITY;
  }

  /** The subscription dropped: messages may be lost from here on, so nothing local is trusted. */
  stopListening(): void {
    this.listening = false;
    this.listeningSince = Number.POSITIVE_INFINITY;
    this.heardAt = Number.NEGATIVE_INFINITY;
    this.clear();
  }

  /** A PING sent at `sentAt` (`performance.now()`) on the subscription was answered. */
  heard(sentAt: number): void {
    if (!this.listening || sentAt < this.listeningSince) return;
    this.heardAt = Math.max(this.heardAt, sentAt);
  }

  private index(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) this.keysByTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.keysByTag.delete(tag);
    }
  }
}

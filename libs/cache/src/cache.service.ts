import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidationTransport,
  SharedCacheStore,
  type InvalidationEvents,
  type InvalidationMessage,
} from './cache-backend';
import { invalidationMessages } from './invalidation-messages';
import { LocalCache } from './local-cache';

export interface CacheEntryOptions {
  /** Seconds; default CACHE_TTL_SECONDS. */
  ttl?: number;
  tags?: readonly string[];
  /** The prefix the key was made with (`CacheKeyMaker.make(prefix, …)`), for `invalidatePrefix`. */
  prefix?: string;
}

/** What `lookup` found: the value, or a miss and how to store what the caller then loads. */
export type CacheLookup<T> =
  { hit: true; value: T } | { hit: false; store(value: T, ttl?: number): Promise<void> };

/** Every key under a prefix also carries this tag, so a prefix is invalidated like a tag. */
export const prefixTag = (prefix: string): string => `prefix:${prefix}`;

/** How long boot waits for the cache's Redis before serving without it. */
const CONNECT_WAIT_MS = 1_000;
/** A cache answer slower than this is treated as a miss (Redis overloaded or half-down). */
const OPERATION_TIMEOUT_MS = 250;
/** How often the invalidation channel is pinged (proof that no message is held up). */
const HEARTBEAT_MS = 250;
/** Local entries are served only while a ping sent at most this long ago came back. */
const MAX_SILENCE_MS = 1_000;

/**
 * The cache as features use it, on two levels:
 *
 * - **Shared** (`SharedCacheStore`): Redis in Redis mode (`RedisCacheStore`); none in
 *   PostgreSQL-only mode (REDIS_URL unset), where each process's in-process level is the cache.
 * - **In-process** (`LocalCache`, CACHE_LOCAL_MAX_ENTRIES; 0 = off) in front of it, with the
 *   same expiry, so a hit makes no network round trip. Every invalidation drops the local
 *   entries in this process at once and is announced to every other process over the
 *   `InvalidationTransport` (Redis pub/sub, or PostgreSQL LISTEN/NOTIFY without Redis); each
 *   process pings its subscription every 250 ms and serves local entries only while it is
 *   subscribed and a ping sent at most 1 s ago came back (docs/caching.md states the bound).
 *
 * Both are given through DI, chosen once from the configuration (`cacheBackendProviders`);
 * the rules here are the same for both. It fails open: while the shared level is unreachable
 * or slow every read is a miss and every write a no-op, the outage is logged once (and its end
 * once), and requests carry on against the database. Local entries are neither served nor kept
 * meanwhile.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly outage = new OutageLog(
    new Logger('Cache'),
    'Cache (bypassed meanwhile)',
    'warn',
  );
  /** The invalidation subscription: without it the local level is off. */
  private readonly subscription = new OutageLog(
    new Logger('Cache'),
    'Cache invalidation channel (in-process cache level off meanwhile)',
    'warn',
  );
  private readonly defaultTtlSeconds: number;
  private readonly enabled: boolean;
  private readonly local: LocalCache;
  private heartbeat?: NodeJS.Timeout;
  private pinging = false;

  constructor(
    config: AppConfig,
    private readonly store: SharedCacheStore,
    private readonly transport: InvalidationTransport,
  ) {
    this.defaultTtlSeconds = config.get('CACHE_TTL_SECONDS');
    this.enabled = config.get('CACHE_ENABLED');
    this.local = new LocalCache({
      maxEntries: this.enabled ? config.get('CACHE_LOCAL_MAX_ENTRIES') : 0,
      maxBytes: config.get('CACHE_LOCAL_MAX_MB') * 1024 * 1024,
      maxSilenceMs: MAX_SILENCE_MS,
    });
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    if (this.local.enabled) this.listen();
    await this.store.connect(CONNECT_WAIT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.local.stopListening();
    await Promise.all([this.transport.close(), this.store.close()]);
  }

  /**
   * The cached value, or undefined. Pass the entry's `tags` and `prefix` (as `set` got them):
   * the local level drops entries by tag even if Redis lost its tag index.
   */
  async get<T>(key: string, options: CacheEntryOptions = {}): Promise<T | undefined> {
    if (!this.enabled) return undefined;
    return this.read<T>(key, options, this.local.ticket());
  }

  /** A `prefix` in the options becomes a tag too, so `invalidatePrefix` finds the entry. */
  async set(key: string, value: unknown, options: CacheEntryOptions = {}): Promise<void> {
    await this.write(key, value, options, this.local.ticket());
  }

  /**
   * `get`, and on a miss a `store` for the value the caller loads. A value loaded while an
   * invalidation arrived is stored in the shared level as `set` would, but not kept locally:
   * it may have been read before the write that the invalidation announced.
   */
  async lookup<T>(key: string, options: CacheEntryOptions = {}): Promise<CacheLookup<T>> {
    const ticket = this.local.ticket();
    const value = this.enabled ? await this.read<T>(key, options, ticket) : undefined;
    if (value !== undefined) return { hit: true, value };
    return {
      hit: false,
      store: (loaded: T, ttl?: number) =>
        this.write(key, loaded, { ...options, ttl: ttl ?? options.ttl }, ticket),
    };
  }

  /** Returns the cached value, or loads, stores and returns it. */
  async wrap<T>(key: string, load: () => Promise<T>, options: CacheEntryOptions = {}): Promise<T> {
    const found = await this.lookup<T>(key, options);
    if (found.hit) return found.value;
    const value = await load();
    if (value !== undefined) await found.store(value);
    return value;
  }

  /**
   * Deletes every entry carrying one of the tags, e.g. `invalidateTags(['users:<id>'])`, in
   * the shared level and in every process's local level: this one's at once (before and
   * after the shared level), the others' when the message reaches them. Over PostgreSQL the
   * message is sent in the caller's transaction, so it is delivered when the write commits.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    // Also refuses local fills from answers already on their way.
    this.local.invalidate(tags, []);
    const deleted = await this.guard(async () => {
      const keys = await this.store.invalidate(tags);
      for (const text of invalidationMessages(tags, keys, this.transport.maxMessageBytes))
        await this.transport.publish(text);
      return keys;
    });
    // Again afterwards: drops what a read between the two may have filled in meanwhile.
    if (deleted) this.local.invalidate(tags, deleted);
    // The shared level could not be asked which keys carry the tags: trust nothing local.
    else this.local.clear();
  }

  /** Deletes every entry whose key starts with `prefix:` (e.g. all of `@Cached({ prefix })`). */
  async invalidatePrefix(prefix: string): Promise<void> {
    await this.invalidateTags([prefixTag(prefix)]);
  }

  private async read<T>(
    key: string,
    options: CacheEntryOptions,
    ticket: number,
  ): Promise<T | undefined> {
    // The local level only while the shared one is reachable (its invalidations reach us).
    if (this.store.ready) {
      // Let I/O that already arrived run first: an invalidation message read off its socket in
      // the same turn as this request is applied before the entry is served, not after.
      if (this.local.size > 0) await new Promise((resolve) => setImmediate(resolve));
      const local = this.local.get<T>(key);
      if (local !== undefined) return local;
    }
    return this.guard(async () => {
      const entry = await this.store.read<T>(key);
      if (entry !== undefined && entry.expires !== undefined)
        this.local.fill(ticket, key, entry.value, entry.expires, this.tagsOf(options));
      return entry?.value;
    });
  }

  private async write(
    key: string,
    value: unknown,
    options: CacheEntryOptions,
    ticket: number,
  ): Promise<void> {
    const ttlMs = (options.ttl ?? this.defaultTtlSeconds) * 1000;
    const tags = this.tagsOf(options);
    // Taken before the shared level computes its own, so the local copy never outlives it.
    const expiresAt = Date.now() + ttlMs;
    const stored = await this.guard(async () => {
      await this.store.write(key, value, ttlMs, tags);
      return true;
    });
    // Only once the shared level has it, tag index included: else an invalidation could not find it.
    if (stored) this.local.fill(ticket, key, value, expiresAt, tags);
  }

  private tagsOf(options: CacheEntryOptions): string[] {
    const tags = [...(options.tags ?? [])];
    if (options.prefix !== undefined) tags.push(prefixTag(options.prefix));
    return tags;
  }

  /**
   * Subscribes to the invalidation channel (the transport reconnects and resubscribes by
   * itself) and pings it every HEARTBEAT_MS. Whenever it drops, the local level drops
   * everything and keeps nothing until it is subscribed again.
   */
  private listen(): void {
    const events: InvalidationEvents = {
      message: this.onMessage,
      listening: () => {
        this.local.startListening();
        this.subscription.up();
        this.ping();
      },
      lost: (error) => {
        this.local.stopListening();
        if (error !== undefined) this.subscription.down(error);
      },
    };
    this.transport.open(events);
    this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private ping(): void {
    if (this.pinging) return;
    this.pinging = true;
    const sentAt = performance.now();
    this.transport
      .ping()
      .then(() => this.local.heard(sentAt))
      .catch(() => undefined)
      .finally(() => (this.pinging = false));
  }

  private readonly onMessage = (text: string): void => {
    let message: Partial<InvalidationMessage> | null;
    try {
      message = JSON.parse(text) as Partial<InvalidationMessage> | null;
    } catch {
      this.local.clear();
      return;
    }
    // Its own messages too: after a timed-out invalidation, only they follow the late deletion.
    if (!Array.isArray(message?.t) || !Array.isArray(message.k)) this.local.clear();
    else this.local.invalidate(message.t, message.k);
  };

  private async guard<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (!this.enabled) return undefined;
    try {
      if (!this.store.ready) throw new Error('the cache’s Redis is not connected');
      const result = await withTimeout(operation(), OPERATION_TIMEOUT_MS);
      this.outage.up();
      return result;
    } catch (error) {
      this.outage.down(error);
      return undefined;
    }
  }
}

async function withTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      operation,
      sleep(ms, undefined, { signal: timer.signal }).then(() => {
        throw new Error(`the cache did not answer within ${ms} ms`);
      }),
    ]);
  } finally {
    timer.abort();
  }
}

import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { RedisKeys } from '@girder/redis';
import { createKeyv, createClient, type RedisClientType } from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCache } from './local-cache';

export interface CacheEntryOptions {
  /** Seconds; default CACHE_TTL_SECONDS. */
  ttl?: number;
  tags?: readonly string[];
  /** The prefix the key was made with (`CacheKeyMaker.make(prefix, …)`), for `invalidatePrefix`. */
  prefix?: string;
}

/** Every key under a prefix also carries this tag, so a prefix is invalidated like a tag. */
export const prefixTag = (prefix: string): string => `prefix:${prefix}`;

/** How long boot waits for the cache's Redis before serving without it. */
const CONNECT_WAIT_MS = 1_000;
/** A cache answer slower than this is treated as a miss (Redis overloaded or half-down). */
const OPERATION_TIMEOUT_MS = 250;
/** How often the invalidation connection is PINGed (proof that no message is held up). */
const HEARTBEAT_MS = 250;
/** Local entries are served only while a PING sent at most this long ago was answered. */
const MAX_SILENCE_MS = 1_000;

/** What goes over the invalidation channel: the tags and the keys that carried them. */
interface InvalidationMessage {
  t: string[];
  k: string[];
}

/**
 * The cache as features use it, on two levels:
 *
 * - **Redis** (shared): stock cache-manager over Keyv's maintained Redis store (`@keyv/redis`).
 *   Values live under `<REDIS_KEY_PREFIX>:cache:<key>`; tag indexes, on the same client, under
 *   `<REDIS_KEY_PREFIX>:cache-tag:<tag>`: a sorted set of the keys carrying the tag scored by
 *   their expiry, pruned on every write to the tag, so invalidation never scans the keyspace
 *   and an index holds at most its tag's live entries.
 * - **In-process** (`LocalCache`, CACHE_LOCAL_MAX_ENTRIES; 0 = off) in front of it, with the
 *   same expiry, so a hit makes no network round trip. Every invalidation drops the local
 *   entries in this process at once and is published on `<REDIS_KEY_PREFIX>:cache-invalidation`
 *   (in the same MULTI as the index deletion) for every other process; each listens on a
 *   connection of its own, PINGed every 250 ms, and serves local entries only while it listens
 *   and a PING sent at most 1 s ago was answered (docs/caching.md states the bound).
 *
 * It fails open: while Redis is unreachable or slow every read is a miss and every write a
 * no-op (the client never queues commands), the outage is logged once (and its end once), and
 * requests carry on against the database. Local entries are neither served nor kept meanwhile.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly outage = new OutageLog(
    new Logger('Cache'),
    'Cache (bypassed meanwhile)',
    'warn',
  );
  /** The invalidation subscription: without it the local level is off (Redis still serves). */
  private readonly subscription = new OutageLog(
    new Logger('Cache'),
    'Cache invalidation channel (in-process cache level off meanwhile)',
    'warn',
  );
  private readonly defaultTtlSeconds: number;
  private readonly enabled: boolean;
  private readonly client: RedisClientType;
  private readonly keyv: ReturnType<typeof createKeyv>;
  private readonly cache: Cache;
  private readonly tagPrefix: string;
  private readonly local: LocalCache;
  /** Pub/sub channel of invalidations (a channel, not a key, under REDIS_KEY_PREFIX). */
  private readonly channel: string;
  private subscriber?: RedisClientType;
  private subscribed = false;
  private heartbeat?: NodeJS.Timeout;
  private pinging = false;

  constructor(config: AppConfig, keys: RedisKeys) {
    this.defaultTtlSeconds = config.get('CACHE_TTL_SECONDS');
    this.enabled = config.get('CACHE_ENABLED');
    this.client = createClient({
      url: config.get('CACHE_REDIS_URL') ?? config.get('REDIS_URL'),
      name: 'girder-cache',
      // A cache must never make a request wait: fail at once while disconnected.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
      },
    });
    this.client.on('error', () => undefined); // reported once by `outage`, below.
    this.keyv = createKeyv(this.client, {
      namespace: keys.key('cache'),
      keyPrefixSeparator: ':',
      throwOnErrors: true,
    });
    this.keyv.on('error', () => undefined);
    this.cache = createCache({ stores: [this.keyv] });
    this.tagPrefix = keys.areaPrefix('cache-tag');
    this.channel = keys.key('cache-invalidation');
    this.local = new LocalCache({
      maxEntries: this.enabled ? config.get('CACHE_LOCAL_MAX_ENTRIES') : 0,
      maxBytes: config.get('CACHE_LOCAL_MAX_MB') * 1024 * 1024,
      maxSilenceMs: MAX_SILENCE_MS,
    });
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    if (this.local.enabled) this.listen();
    // Reconnection goes on in the background: an unreachable cache is no reason to refuse to boot.
    const connected = this.client.connect().catch(() => undefined);
    await Promise.race([connected, sleep(CONNECT_WAIT_MS)]);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    this.local.stopListening();
    if (this.subscriber?.isOpen) this.subscriber.destroy();
    if (this.client.isOpen) this.client.destroy();
  }

  /**
   * The cached value, or undefined. Pass the entry's `tags` and `prefix` (as `set` got them):
   * the local level drops entries by tag even if Redis lost its tag index.
   */
  async get<T>(key: string, options: CacheEntryOptions = {}): Promise<T | undefined> {
    if (!this.enabled) return undefined;
    // The local level only while the shared one is reachable (its invalidations reach us).
    if (this.client.isReady) {
      const local = this.local.get<T>(key);
      if (local !== undefined) return local;
    }
    const ticket = this.local.ticket();
    return this.guard(async () => {
      const raw = await this.keyv.getRaw<T>(key);
      const value = raw?.value ?? undefined;
      if (value !== undefined && typeof raw?.expires === 'number')
        this.local.fill(ticket, key, value, raw.expires, this.tagsOf(options));
      return value;
    });
  }

  /** A `prefix` in the options becomes a tag too, so `invalidatePrefix` finds the entry. */
  async set(key: string, value: unknown, options: CacheEntryOptions = {}): Promise<void> {
    const ttlMs = (options.ttl ?? this.defaultTtlSeconds) * 1000;
    const tags = this.tagsOf(options);
    const ticket = this.local.ticket();
    // Taken before Redis computes its own, so the local copy never outlives the shared one.
    const expiresAt = Date.now() + ttlMs;
    const stored = await this.guard(async () => {
      await this.cache.set(key, value, ttlMs);
      if (tags.length > 0) await this.index(key, ttlMs, tags);
      return true;
    });
    // Only once Redis has it, tag index included: else an invalidation could not find it.
    if (stored) this.local.fill(ticket, key, value, expiresAt, tags);
  }

  /** Returns the cached value, or loads, stores and returns it. */
  async wrap<T>(key: string, load: () => Promise<T>, options: CacheEntryOptions = {}): Promise<T> {
    const cached = await this.get<T>(key, options);
    if (cached !== undefined) return cached;
    const value = await load();
    if (value !== undefined) await this.set(key, value, options);
    return value;
  }

  /**
   * Deletes every entry carrying one of the tags, e.g. `invalidateTags(['users:<id>'])`, in
   * Redis and in every process's local level: this one's at once (before and after Redis),
   * the others' when the message published with the deletion reaches them.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    // Also refuses local fills from Redis answers already on their way.
    this.local.invalidate(tags, []);
    const deleted = await this.guard(async () => {
      const tagKeys = tags.map((tag) => this.tagPrefix + tag);
      const members = await Promise.all(tagKeys.map((tagKey) => this.client.zRange(tagKey, 0, -1)));
      const keys = [...new Set(members.flat())];
      if (keys.length > 0) await this.cache.mdel(keys);
      const message: InvalidationMessage = { t: [...tags], k: keys };
      await this.client.multi().del(tagKeys).publish(this.channel, JSON.stringify(message)).exec();
      return keys;
    });
    // Again after Redis: drops what a read between the two may have filled in meanwhile.
    if (deleted) this.local.invalidate(tags, deleted);
    // Redis could not be asked which keys carry the tags: trust nothing local.
    else this.local.clear();
  }

  /** Deletes every entry whose key starts with `prefix:` (e.g. all of `@Cached({ prefix })`). */
  async invalidatePrefix(prefix: string): Promise<void> {
    await this.invalidateTags([prefixTag(prefix)]);
  }

  private tagsOf(options: CacheEntryOptions): string[] {
    const tags = [...(options.tags ?? [])];
    if (options.prefix !== undefined) tags.push(prefixTag(options.prefix));
    return tags;
  }

  private async index(key: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    const now = Date.now();
    const multi = this.client.multi();
    for (const tag of tags) {
      const tagKey = this.tagPrefix + tag;
      multi.zRemRangeByScore(tagKey, '-inf', now);
      multi.zAdd(tagKey, { score: now + ttlMs, value: key });
      // The index lives as long as its longest-lived key (NX: first set; GT: extend only).
      multi.pExpire(tagKey, ttlMs, 'NX');
      multi.pExpire(tagKey, ttlMs, 'GT');
    }
    await multi.exec();
  }

  /**
   * Subscribes to the invalidation channel on a connection of its own (it reconnects and
   * resubscribes by itself) and PINGs it every HEARTBEAT_MS. Whenever it drops, the local
   * level drops everything and keeps nothing until it is subscribed again.
   */
  private listen(): void {
    const subscriber = this.client.duplicate({ name: 'girder-cache-invalidations' });
    this.subscriber = subscriber;
    const stop = (): void => this.local.stopListening();
    subscriber.on('error', (error: Error) => {
      stop();
      this.subscription.down(error);
    });
    subscriber.on('reconnecting', stop);
    subscriber.on('end', stop);
    // After a reconnection the client has resubscribed before it says 'ready'.
    subscriber.on('ready', () => void this.subscribe(subscriber));
    subscriber.connect().catch(() => undefined);
    this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private async subscribe(subscriber: RedisClientType): Promise<void> {
    if (!this.subscribed) {
      try {
        await subscriber.subscribe(this.channel, this.onMessage);
        this.subscribed = true;
      } catch (error) {
        this.subscription.down(error); // tried again at the next 'ready'
        return;
      }
    }
    if (!subscriber.isReady) return;
    this.local.startListening();
    this.subscription.up();
    this.ping();
  }

  private ping(): void {
    const subscriber = this.subscriber;
    if (!subscriber?.isReady || !this.subscribed || this.pinging) return;
    this.pinging = true;
    const sentAt = performance.now();
    subscriber
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
      if (!this.client.isReady) throw new Error('cache Redis is not connected');
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
        throw new Error(`cache Redis did not answer within ${ms} ms`);
      }),
    ]);
  } finally {
    timer.abort();
  }
}

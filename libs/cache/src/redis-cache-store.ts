import { RedisKeys, createRedisClient } from '@girder/redis';
import { createCache, type Cache } from 'cache-manager';
import type Redis from 'ioredis';
import { Keyv } from 'keyv';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidationTransport,
  SharedCacheStore,
  type InvalidationEvents,
  type SharedEntry,
} from './cache-backend';
import { IoredisKeyvStore } from './ioredis-keyv-store';

/** Options of the cache's connections: a cache must never make a request wait. */
const CACHE_CLIENT_OPTIONS = {
  // Refused at once while disconnected instead of queued; reconnection goes on in the background.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  lazyConnect: true,
  // Resubscribing is `RedisInvalidationTransport`'s job, so it knows when it is listening again.
  autoResubscribe: false,
} as const;

/** ioredis's MULTI answers each command's error in place; the first one fails the write. */
function throwFirstError(results: Array<[Error | null, unknown]> | null): void {
  if (results === null) throw new Error('MULTI aborted');
  const error = results.find(([failure]) => failure)?.[0];
  if (error) throw error;
}

/**
 * The shared level in Redis mode: stock cache-manager over Keyv, stored through Girder's
 * ioredis (`IoredisKeyvStore`). Values live under `<REDIS_KEY_PREFIX>:cache:<key>`; tag
 * indexes, on the same client, under `<REDIS_KEY_PREFIX>:cache-tag:<tag>`: a sorted set of the
 * keys carrying the tag scored by their expiry, pruned on every write to the tag, so
 * invalidation never scans the keyspace and an index holds at most its tag's live entries. The
 * client never queues commands while disconnected (a cache must not make a request wait) and
 * reconnects in the background.
 */
export class RedisCacheStore extends SharedCacheStore {
  readonly client: Redis;
  private readonly keyv: Keyv;
  private readonly cache: Cache;
  private readonly tagPrefix: string;

  constructor(url: string, keys: RedisKeys) {
    super();
    this.client = createRedisClient(url, 'girder-cache', CACHE_CLIENT_OPTIONS);
    this.client.on('error', () => undefined); // CacheService reports outages once.
    this.keyv = new Keyv({
      store: new IoredisKeyvStore(this.client),
      namespace: keys.key('cache'),
      throwOnErrors: true,
    });
    this.keyv.on('error', () => undefined);
    this.cache = createCache({ stores: [this.keyv] });
    this.tagPrefix = keys.areaPrefix('cache-tag');
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  async connect(waitMs: number): Promise<void> {
    // Reconnection goes on in the background: an unreachable cache is no reason to refuse to boot.
    const connected = this.client.connect().catch(() => undefined);
    await Promise.race([connected, sleep(waitMs)]);
  }

  async read<T>(key: string): Promise<SharedEntry<T> | undefined> {
    const raw = await this.keyv.getRaw<T>(key);
    const value = raw?.value ?? undefined;
    if (value === undefined) return undefined;
    return { value, expires: typeof raw?.expires === 'number' ? raw.expires : undefined };
  }

  async write(key: string, value: unknown, ttlMs: number, tags: readonly string[]): Promise<void> {
    await this.cache.set(key, value, ttlMs);
    if (tags.length === 0) return;
    const now = Date.now();
    const multi = this.client.multi();
    for (const tag of tags) {
      const tagKey = this.tagPrefix + tag;
      multi.zremrangebyscore(tagKey, '-inf', now);
      multi.zadd(tagKey, now + ttlMs, key);
      // The index lives as long as its longest-lived key (NX: first set; GT: extend only).
      multi.pexpire(tagKey, ttlMs, 'NX');
      multi.pexpire(tagKey, ttlMs, 'GT');
    }
    throwFirstError(await multi.exec());
  }

  async invalidate(tags: readonly string[]): Promise<string[]> {
    const tagKeys = tags.map((tag) => this.tagPrefix + tag);
    const members = await Promise.all(tagKeys.map((tagKey) => this.client.zrange(tagKey, 0, -1)));
    const keys = [...new Set(members.flat())];
    if (keys.length > 0) await this.cache.mdel(keys);
    await this.client.del(...tagKeys);
    return keys;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * Invalidations over Redis pub/sub, on the cache's Redis: published on
 * `<REDIS_KEY_PREFIX>:cache-invalidation` by the store's client, received on a connection of
 * its own, which subscribes again after every reconnection before it reports listening. A
 * PING on that connection is answered after every message published before it.
 */
export class RedisInvalidationTransport extends InvalidationTransport {
  readonly maxMessageBytes = Number.POSITIVE_INFINITY;
  private readonly channel: string;
  private subscriber?: Redis;
  private subscribed = false;

  constructor(
    private readonly store: RedisCacheStore,
    keys: RedisKeys,
  ) {
    super();
    this.channel = keys.key('cache-invalidation');
  }

  open(events: InvalidationEvents): void {
    const subscriber = this.store.client.duplicate({
      ...CACHE_CLIENT_OPTIONS,
      connectionName: 'girder-cache-invalidations',
    });
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) events.message(text);
    });
    subscriber.on('error', (error: Error) => events.lost(error));
    subscriber.on('close', () => {
      this.subscribed = false;
      events.lost();
    });
    subscriber.on('ready', () => void this.subscribe(subscriber, events));
    subscriber.connect().catch(() => undefined);
  }

  async publish(text: string): Promise<void> {
    await this.store.client.publish(this.channel, text);
  }

  async ping(): Promise<void> {
    const subscriber = this.subscriber;
    if (subscriber?.status !== 'ready' || !this.subscribed) throw new Error('not subscribed');
    await subscriber.ping();
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  /** On every (re)connection: the connection starts unsubscribed (`autoResubscribe: false`). */
  private async subscribe(subscriber: Redis, events: InvalidationEvents): Promise<void> {
    try {
      await subscriber.subscribe(this.channel);
      this.subscribed = true;
    } catch (error) {
      events.lost(error); // tried again at the next 'ready'
      return;
    }
    if (subscriber.status === 'ready') events.listening();
  }
}

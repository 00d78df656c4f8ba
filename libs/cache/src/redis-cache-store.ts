import { RedisKeys } from '@girder/redis';
import { createKeyv, createClient, type RedisClientType } from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidationTransport,
  SharedCacheStore,
  type InvalidationEvents,
  type SharedEntry,
} from './cache-backend';

/**
 * The shared level in Redis mode: stock cache-manager over Keyv's maintained Redis store
 * (`@keyv/redis`). Values live under `<REDIS_KEY_PREFIX>:cache:<key>`; tag indexes, on the same
 * client, under `<REDIS_KEY_PREFIX>:cache-tag:<tag>`: a sorted set of the keys carrying the tag
 * scored by their expiry, pruned on every write to the tag, so invalidation never scans the
 * keyspace and an index holds at most its tag's live entries. The client never queues commands
 * while disconnected (a cache must not make a request wait) and reconnects in the background.
 */
export class RedisCacheStore extends SharedCacheStore {
  readonly client: RedisClientType;
  private readonly keyv: ReturnType<typeof createKeyv>;
  private readonly cache: Cache;
  private readonly tagPrefix: string;

  constructor(url: string, keys: RedisKeys) {
    super();
    this.client = createClient({
      url,
      name: 'girder-cache',
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
      },
    });
    this.client.on('error', () => undefined); // CacheService reports outages once.
    this.keyv = createKeyv(this.client, {
      namespace: keys.key('cache'),
      keyPrefixSeparator: ':',
      throwOnErrors: true,
    });
    this.keyv.on('error', () => undefined);
    this.cache = createCache({ stores: [this.keyv] });
    this.tagPrefix = keys.areaPrefix('cache-tag');
  }

  get ready(): boolean {
    return this.client.isReady;
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
      multi.zRemRangeByScore(tagKey, '-inf', now);
      multi.zAdd(tagKey, { score: now + ttlMs, value: key });
      // The index lives as long as its longest-lived key (NX: first set; GT: extend only).
      multi.pExpire(tagKey, ttlMs, 'NX');
      multi.pExpire(tagKey, ttlMs, 'GT');
    }
    await multi.exec();
  }

  async invalidate(tags: readonly string[]): Promise<string[]> {
    const tagKeys = tags.map((tag) => this.tagPrefix + tag);
    const members = await Promise.all(tagKeys.map((tagKey) => this.client.zRange(tagKey, 0, -1)));
    const keys = [...new Set(members.flat())];
    if (keys.length > 0) await this.cache.mdel(keys);
    await this.client.del(tagKeys);
    return keys;
  }

  async close(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }
}

/**
 * Invalidations over Redis pub/sub, on the cache's Redis: published on
 * `<REDIS_KEY_PREFIX>:cache-invalidation` by the store's client, received on a connection of
 * its own (node-redis resubscribes after a reconnection before it reports ready). A PING on
 * that connection is answered after every message published before it.
 */
export class RedisInvalidationTransport extends InvalidationTransport {
  readonly maxMessageBytes = Number.POSITIVE_INFINITY;
  private readonly channel: string;
  private subscriber?: RedisClientType;
  private subscribed = false;

  constructor(
    private readonly store: RedisCacheStore,
    keys: RedisKeys,
  ) {
    super();
    this.channel = keys.key('cache-invalidation');
  }

  open(events: InvalidationEvents): void {
    const subscriber = this.store.client.duplicate({ name: 'girder-cache-invalidations' });
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => events.lost(error));
    subscriber.on('reconnecting', () => events.lost());
    subscriber.on('end', () => events.lost());
    // After a reconnection the client has resubscribed before it says 'ready'.
    subscriber.on('ready', () => void this.subscribe(subscriber, events));
    subscriber.connect().catch(() => undefined);
  }

  async publish(text: string): Promise<void> {
    await this.store.client.publish(this.channel, text);
  }

  async ping(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber?.isReady || !this.subscribed) throw new Error('not subscribed');
    await subscriber.ping();
  }

  async close(): Promise<void> {
    if (this.subscriber?.isOpen) this.subscriber.destroy();
  }

  private async subscribe(subscriber: RedisClientType, events: InvalidationEvents): Promise<void> {
    if (!this.subscribed) {
      try {
        await subscriber.subscribe(this.channel, (text: string) => events.message(text));
        this.subscribed = true;
      } catch (error) {
        events.lost(error); // tried again at the next 'ready'
        return;
      }
    }
    if (subscriber.isReady) events.listening();
  }
}

import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { RedisKeys } from '@girder/redis';
import { createKeyv, createClient, type RedisClientType } from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { setTimeout as sleep } from 'node:timers/promises';

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

/**
 * The cache as features use it: stock cache-manager over Keyv's maintained Redis store
 * (`@keyv/redis`). Values live under `<REDIS_KEY_PREFIX>:cache:<key>`; tag indexes, on the
 * same client, under `<REDIS_KEY_PREFIX>:cache-tag:<tag>`: a sorted set of the keys carrying
 * the tag scored by their expiry, pruned on every write to the tag, so invalidation never
 * scans the keyspace and an index holds at most its tag's live entries.
 *
 * It fails open: while Redis is unreachable or slow every read is a miss and every write a
 * no-op (the client never queues commands), the outage is logged once (and its end once), and
 * requests carry on against the database.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly outage = new OutageLog(
    new Logger('Cache'),
    'Cache (bypassed meanwhile)',
    'warn',
  );
  private readonly defaultTtlSeconds: number;
  private readonly enabled: boolean;
  private readonly client: RedisClientType;
  private readonly cache: Cache;
  private readonly tagPrefix: string;

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
    const keyv = createKeyv(this.client, {
      namespace: keys.key('cache'),
      keyPrefixSeparator: ':',
      throwOnErrors: true,
    });
    keyv.on('error', () => undefined);
    this.cache = createCache({ stores: [keyv] });
    this.tagPrefix = keys.areaPrefix('cache-tag');
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    // Reconnection goes on in the background: an unreachable cache is no reason to refuse to boot.
    const connected = this.client.connect().catch(() => undefined);
    await Promise.race([connected, sleep(CONNECT_WAIT_MS)]);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.guard(async () => (await this.cache.get<T>(key)) ?? undefined);
  }

  /** A `prefix` in the options becomes a tag too, so `invalidatePrefix` finds the entry. */
  async set(key: string, value: unknown, options: CacheEntryOptions = {}): Promise<void> {
    const ttlMs = (options.ttl ?? this.defaultTtlSeconds) * 1000;
    const tags = [...(options.tags ?? [])];
    if (options.prefix !== undefined) tags.push(prefixTag(options.prefix));
    await this.guard(async () => {
      await this.cache.set(key, value, ttlMs);
      if (tags.length > 0) await this.index(key, ttlMs, tags);
    });
  }

  /** Returns the cached value, or loads, stores and returns it. */
  async wrap<T>(key: string, load: () => Promise<T>, options: CacheEntryOptions = {}): Promise<T> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) return cached;
    const value = await load();
    if (value !== undefined) await this.set(key, value, options);
    return value;
  }

  /** Deletes every entry carrying one of the tags, e.g. `invalidateTags(['users:<id>'])`. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.guard(async () => {
      const tagKeys = tags.map((tag) => this.tagPrefix + tag);
      const members = await Promise.all(tagKeys.map((tagKey) => this.client.zRange(tagKey, 0, -1)));
      const keys = [...new Set(members.flat())];
      if (keys.length > 0) await this.cache.mdel(keys);
      await this.client.del(tagKeys);
    });
  }

  /** Deletes every entry whose key starts with `prefix:` (e.g. all of `@Cached({ prefix })`). */
  async invalidatePrefix(prefix: string): Promise<void> {
    await this.invalidateTags([prefixTag(prefix)]);
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

import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { RedisKeys, createRedisClient } from '@girder/redis';
import { createCache, type Cache } from 'cache-manager';
import type Redis from 'ioredis';
import { Keyv } from 'keyv';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheStore } from './cache-store';
import { IoRedisKeyvStore } from './ioredis-keyv-store';

/** How long boot waits for the cache's Redis before serving without it. */
const CONNECT_WAIT_MS = 1_000;
/** A cache answer slower than this is treated as a miss (Redis is overloaded or half-down). */
const COMMAND_TIMEOUT_MS = 250;

/**
 * cache-manager over Keyv over ioredis. Values live under `<REDIS_KEY_PREFIX>:cache:<key>`,
 * tag indexes under `<REDIS_KEY_PREFIX>:cache-tag:<tag>`: a sorted set of the keys carrying
 * the tag, scored by when each expires. Invalidation never scans the keyspace and never
 * touches keys outside the cache; members leave the index when their entry expires (pruned on
 * every write to the tag), so an index holds at most the live entries of its tag.
 */
@Injectable()
export class RedisCacheStore extends CacheStore implements OnModuleInit, OnApplicationShutdown {
  private readonly client: Redis;
  private readonly cache: Cache;
  private readonly tagPrefix: string;

  constructor(config: AppConfig, keys: RedisKeys) {
    super();
    this.client = createRedisClient(
      config.get('CACHE_REDIS_URL') ?? config.get('REDIS_URL'),
      'girder-cache',
      // A cache must never make a request wait: fail at once while disconnected.
      { enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS },
    );
    this.client.on('error', () => undefined); // CacheService reports outages, once.
    const keyv = new Keyv({
      store: new IoRedisKeyvStore(this.client),
      namespace: keys.key('cache'),
      throwOnErrors: true,
      useKeyPrefix: true,
    });
    this.cache = createCache({ stores: [keyv] });
    this.tagPrefix = keys.areaPrefix('cache-tag');
  }

  async onModuleInit(): Promise<void> {
    if (this.client.status === 'ready') return;
    // once() rejects on 'error': an unreachable cache is not a reason to refuse to boot.
    await Promise.race([once(this.client, 'ready').catch(() => undefined), sleep(CONNECT_WAIT_MS)]);
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }

  async get<T>(key: string): Promise<T | undefined> {
    this.assertConnected();
    // cache-manager reports store errors as events and answers undefined; a miss is right then.
    return (await this.cache.get<T>(key)) ?? undefined;
  }

  async set(key: string, value: unknown, ttlMs: number, tags: readonly string[]): Promise<void> {
    this.assertConnected();
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
    await multi.exec();
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    this.assertConnected();
    const tagKeys = tags.map((tag) => this.tagPrefix + tag);
    const members = await Promise.all(tagKeys.map((tagKey) => this.client.zrange(tagKey, 0, -1)));
    const keys = [...new Set(members.flat())];
    if (keys.length > 0) await this.cache.mdel(keys);
    await this.client.del(...tagKeys);
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new Error(`cache Redis is ${this.client.status}`);
  }
}

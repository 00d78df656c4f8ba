import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { CacheStore } from './cache-store';

export interface CacheEntryOptions {
  /** Seconds; default CACHE_TTL_SECONDS. */
  ttl?: number;
  tags?: readonly string[];
  /** The prefix the key was made with (`CacheKeyMaker.make(prefix, …)`), for `invalidatePrefix`. */
  prefix?: string;
}

/** Every key under a prefix also carries this tag, so a prefix is invalidated like a tag. */
export const prefixTag = (prefix: string): string => `prefix:${prefix}`;

/**
 * The cache as features use it. It fails open: when the store is unreachable every read is a
 * miss and every write a no-op, the outage is logged once (and its end once), and requests
 * carry on against the database.
 */
@Injectable()
export class CacheService {
  private readonly outage = new OutageLog(
    new Logger('Cache'),
    'Cache (bypassed meanwhile)',
    'warn',
  );
  private readonly defaultTtlSeconds: number;
  private readonly enabled: boolean;

  constructor(
    private readonly store: CacheStore,
    config: AppConfig,
  ) {
    this.defaultTtlSeconds = config.get('CACHE_TTL_SECONDS');
    this.enabled = config.get('CACHE_ENABLED');
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.guard(() => this.store.get<T>(key));
  }

  /** A `prefix` in the options becomes a tag too, so `invalidatePrefix` finds the entry. */
  async set(key: string, value: unknown, options: CacheEntryOptions = {}): Promise<void> {
    const ttlMs = (options.ttl ?? this.defaultTtlSeconds) * 1000;
    const tags = [...(options.tags ?? [])];
    if (options.prefix !== undefined) tags.push(prefixTag(options.prefix));
    await this.guard(() => this.store.set(key, value, ttlMs, tags));
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
    await this.guard(() => this.store.invalidateTags(tags));
  }

  /** Deletes every entry whose key starts with `prefix:` (e.g. all of `@Cached({ prefix })`). */
  async invalidatePrefix(prefix: string): Promise<void> {
    await this.invalidateTags([prefixTag(prefix)]);
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (!this.enabled) return undefined;
    try {
      const result = await operation();
      this.outage.up();
      return result;
    } catch (error) {
      this.outage.down(error);
      return undefined;
    }
  }
}

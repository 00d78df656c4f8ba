import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a throttler storage answers for one hit. */
export type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Entries kept at most; past it, expired entries are swept, then the oldest dropped. */
export const MEMORY_COUNTERS_MAX_ENTRIES = 100_000;
/** How often, at most, an increment sweeps expired entries. */
const SWEEP_INTERVAL_MS = 10_000;

interface Counter {
  hits: number;
  /** End of the current fixed window (the Redis hit key's expiry). */
  windowEndsAt: number;
  /** End of the block (the Redis block key's expiry); 0 when not blocked. */
  blockedUntil: number;
}

/**
 * Rate-limit counters in this process's memory, with the semantics of the Redis storage's
 * script (`@nest-lab/throttler-storage-redis`), so a limit means the same thing whichever
 * storage counts it: a fixed window of `ttl` ms per key and throttler name counts every hit,
 * blocked ones included; the hit that passes `limit` blocks the key for `blockDuration` ms; a
 * hit after the block is let through once its window has restarted. Expired entries are swept at most every 10 s, and no
 * more than `maxEntries` are kept (the least recently hit go first), so memory stays bounded
 * whatever keys clients make up.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly counters = new Map<string, Counter>();
  private lastSweepAt = 0;

  constructor(private readonly maxEntries = MEMORY_COUNTERS_MAX_ENTRIES) {}

  /** Entries held (expired ones included until the next sweep). */
  get size(): number {
    return this.counters.size;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    return this.hit(key, ttl, limit, blockDuration, throttlerName);
  }

  /** `increment`, synchronously. */
  hit(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ThrottlerRecord {
    const now = Date.now();
    this.sweep(now);
    const id = `${key}:${throttlerName}`;
    let counter = this.counters.get(id);
    if (!counter) {
      counter = { hits: 0, windowEndsAt: now + ttl, blockedUntil: 0 };
    } else if (counter.windowEndsAt <= now) {
      counter.hits = 0;
      counter.windowEndsAt = now + ttl;
    }
    // Re-inserted on every hit: the Map's order is least recently hit first.
    this.counters.delete(id);
    this.counters.set(id, counter);

    counter.hits += 1;
    let timeToExpire = counter.windowEndsAt - now;
    let isBlocked = counter.blockedUntil > now;
    let timeToBlockExpire = 0;
    if (isBlocked) {
      timeToBlockExpire = counter.blockedUntil - now;
    } else if (counter.hits > limit) {
      counter.blockedUntil = now + blockDuration;
      isBlocked = true;
      timeToBlockExpire = blockDuration;
    }
    if (isBlocked && timeToBlockExpire <= 0) {
      // A block of no duration: start over, as the script does.
      counter.blockedUntil = 0;
      counter.hits = 1;
      counter.windowEndsAt = now + ttl;
      timeToExpire = ttl;
      isBlocked = false;
    }
    return {
      totalHits: counter.hits,
      timeToExpire: Math.ceil(timeToExpire / 1000),
      isBlocked,
      timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000),
    };
  }

  clear(): void {
    this.counters.clear();
  }

  private sweep(now: number): void {
    const full = this.counters.size >= this.maxEntries;
    if (!full && now - this.lastSweepAt < SWEEP_INTERVAL_MS) return;
    this.lastSweepAt = now;
    for (const [id, counter] of this.counters) {
      if (counter.windowEndsAt <= now && counter.blockedUntil <= now) this.counters.delete(id);
    }
    // Still nearly full of live entries: drop the least recently hit tenth, so the next full
    // sweep is thousands of new keys away.
    const keep = Math.floor(this.maxEntries * 0.9);
    for (const id of this.counters.keys()) {
      if (this.counters.size <= keep) break;
      this.counters.delete(id);
    }
  }
}

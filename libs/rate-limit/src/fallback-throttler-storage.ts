import type { ThrottlerStorage } from '@nestjs/throttler';
import { MemoryThrottlerStorage, type ThrottlerRecord } from './memory-throttler-storage';

/** The shared counters (Redis) as the fallback sees them. */
export interface PrimaryThrottlerStorage extends ThrottlerStorage {
  /** A cheap round trip; resolves once the primary answers again. */
  ping(): Promise<unknown>;
}

/** What the fallback reports: the switches, and every decision taken from memory. */
export interface FallbackEvents {
  /** The primary failed: on the switch to memory, and on every failed probe while it lasts. */
  down(error: unknown, switched: boolean): void;
  /** Back on the primary. */
  up(): void;
  /** One hit counted in memory. */
  memoryHit?(): void;
}

/** How often, at most, a request in memory mode sends a probe to the primary. */
export const PROBE_INTERVAL_MS = 1_000;

/**
 * A throttler storage that counts in the primary (Redis, shared by every process) and, when a
 * primary command fails, in this process's memory instead of failing the request. The switch
 * happens on the first failure; from then on requests go straight to memory (none waits for
 * the primary) while a probe, at most one a second and never awaited by a request, asks the
 * primary whether it answers again; the first successful probe switches back. The owner of the
 * connection can call `degrade()` when it closes and `probe(true)` when it is back.
 */
export class FallbackThrottlerStorage implements ThrottlerStorage {
  private degradedSince?: number;
  private probing = false;
  private lastProbeAt = 0;

  constructor(
    private readonly primary: PrimaryThrottlerStorage,
    private readonly events: FallbackEvents,
    readonly memory = new MemoryThrottlerStorage(),
    private readonly probeIntervalMs = PROBE_INTERVAL_MS,
  ) {}

  /** Whether hits are counted in memory right now. */
  get degraded(): boolean {
    return this.degradedSince !== undefined;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    if (this.degradedSince === undefined) {
      try {
        return await this.primary.increment(key, ttl, limit, blockDuration, throttlerName);
      } catch (error) {
        this.degrade(error);
      }
    } else {
      this.probe();
    }
    this.events.memoryHit?.();
    return this.memory.hit(key, ttl, limit, blockDuration, throttlerName);
  }

  /**
   * While degraded, sends one probe to the primary in the background (not more than one a
   * `probeIntervalMs` unless `now`); a success switches back to it.
   */
  probe(now = false): void {
    if (this.degradedSince === undefined || this.probing) return;
    if (!now && Date.now() - this.lastProbeAt < this.probeIntervalMs) return;
    this.probing = true;
    this.lastProbeAt = Date.now();
    void this.primary
      .ping()
      .then(
        () => this.recover(),
        (error: unknown) => this.events.down(error, false),
      )
      .finally(() => {
        this.probing = false;
      });
  }

  /** Switches to memory now (e.g. the connection closed), without waiting for a failed hit. */
  degrade(error: unknown): void {
    if (this.degradedSince !== undefined) return;
    this.degradedSince = Date.now();
    // The next probe waits a full interval: the primary just failed.
    this.lastProbeAt = this.degradedSince;
    this.events.down(error, true);
  }

  private recover(): void {
    if (this.degradedSince === undefined) return;
    this.degradedSince = undefined;
    this.events.up();
  }
}

/** What an outage log writes to (Nest's `Logger` fits). */
export interface OutageLogger {
  error(message: string): void;
  warn(message: string): void;
  log(message: string): void;
}

/** How often a persisting outage is reported again. */
export const OUTAGE_REMINDER_MS = 60_000;

/**
 * The one way Girder reports a dependency (Redis, the cache, the rate-limit counters, a
 * queue) going away and coming back: the first failure is logged at once; while the outage
 * lasts, at most one reminder a minute with the count of failures held back (clients report
 * every reconnect attempt, which would bury the rest of the log); the recovery once.
 */
export class OutageLog {
  private downSince?: number;
  private lastReportedAt = 0;
  private heldBack = 0;

  constructor(
    private readonly logger: OutageLogger,
    private readonly what: string,
    private readonly level: 'error' | 'warn' = 'error',
  ) {}

  /** A failure: reported if it starts an outage, or as the reminder when one is due. */
  down(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (this.downSince === undefined) {
      this.downSince = now;
      this.lastReportedAt = now;
      this.heldBack = 0;
      this.logger[this.level](`${this.what} unavailable: ${reason}`);
      return;
    }
    if (now - this.lastReportedAt < OUTAGE_REMINDER_MS) {
      this.heldBack += 1;
      return;
    }
    const seconds = Math.round((now - this.downSince) / 1000);
    this.logger[this.level](
      `${this.what} still unavailable after ${seconds} s (${this.heldBack + 1} failures since the last report): ${reason}`,
    );
    this.lastReportedAt = now;
    this.heldBack = 0;
  }

  /** A success: ends the outage, reported once. */
  up(): void {
    if (this.downSince === undefined) return;
    const seconds = Math.round((Date.now() - this.downSince) / 1000);
    this.downSince = undefined;
    this.logger.log(`${this.what} available again after ${seconds} s`);
  }
}

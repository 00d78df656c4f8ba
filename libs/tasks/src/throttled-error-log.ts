import type { Logger } from '@nestjs/common';

/** How often a persisting error (a Redis outage, say) is logged again. */
const INTERVAL_MS = 60_000;

/**
 * Logs the first of a burst of errors and then at most one a minute: BullMQ clients report
 * every reconnect attempt, which would bury the rest of the log during an outage.
 */
export class ThrottledErrorLog {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(private readonly logger: Logger) {}

  log(message: string): void {
    const now = Date.now();
    if (now - this.lastLoggedAt < INTERVAL_MS) {
      this.suppressed += 1;
      return;
    }
    const repeats =
      this.suppressed > 0 ? ` (${this.suppressed} similar errors since the last)` : '';
    this.lastLoggedAt = now;
    this.suppressed = 0;
    this.logger.error(`${message}${repeats}`);
  }
}

import { ProblemException } from '@girder/errors';

type Priority = 'verify' | 'hash';

interface Waiter {
  start: () => void;
}

/**
 * Runs argon2 work a bounded number at a time. argon2 runs on libuv's thread pool (4 threads by
 * default), which file and DNS work share: an unbounded burst of sign-ups would queue hundreds
 * of hashes there and stall everything behind them. Here a burst waits its turn instead,
 * password checks (logins) go before new hashes (sign-ups, imports), and past `maxWaiting`
 * callers get a 503 at once rather than a queue that only grows.
 */
export class HashingQueue {
  private running = 0;
  private readonly waiting: Record<Priority, Waiter[]> = { verify: [], hash: [] };

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  get size(): { running: number; waiting: number } {
    return {
      running: this.running,
      waiting: this.waiting.verify.length + this.waiting.hash.length,
    };
  }

  async run<T>(priority: Priority, work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.size.waiting >= this.maxWaiting) {
        throw new ProblemException(
          'SERVICE_UNAVAILABLE',
          'Too many password checks are waiting; retry shortly.',
        );
      }
      await new Promise<void>((start) => this.waiting[priority].push({ start }));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.verify.shift() ?? this.waiting.hash.shift();
      // The slot passes straight to the next waiter, so `running` never over-counts.
      if (next) next.start();
      else this.running -= 1;
    }
  }
}

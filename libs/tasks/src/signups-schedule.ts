import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { TaskQueues } from './task-queues.service';

export const SIGNUPS_SCHEDULER_ID = 'reports.signups.daily';
const RETRY_MS = 5_000;

/**
 * Registers the daily signups report with BullMQ's job schedulers. `upsertJobScheduler` is
 * keyed by id, so restarts and several workers keep exactly one schedule (and a changed cron
 * replaces it).
 */
@Injectable()
export class SignupsReportSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private markRegistered!: () => void;
  /** Settles once the schedule is in Redis (boot does not wait for it). */
  readonly registered = new Promise<void>((resolve) => (this.markRegistered = resolve));

  constructor(
    private readonly queues: TaskQueues,
    private readonly config: AppConfig,
  ) {}

  /** Not awaited: a worker whose Redis is down still boots (and reports it in readiness). */
  onApplicationBootstrap(): void {
    void this.register();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async register(): Promise<void> {
    try {
      await this.upsert();
      this.markRegistered();
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn(
        `Could not register the signups schedule (${(error as Error).message}); retrying`,
      );
      this.retry = setTimeout(() => void this.register(), RETRY_MS);
    }
  }

  private async upsert(): Promise<void> {
    const pattern = this.config.get('REPORTS_SIGNUPS_CRON');
    await this.queues.get('reports').upsertJobScheduler(
      SIGNUPS_SCHEDULER_ID,
      { pattern, tz: 'UTC' },
      {
        name: 'reports.signups',
        data: { scheduled: true },
        opts: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 60_000 },
          removeOnComplete: true,
          removeOnFail: { age: 86_400 },
        },
      },
    );
    this.logger.log(`reports.signups scheduled: "${pattern}" (UTC)`);
  }
}

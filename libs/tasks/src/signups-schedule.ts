import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { TaskQueues } from './task-queues.service';

export const SIGNUPS_SCHEDULER_ID = 'reports.signups.daily';

/**
 * Registers the daily signups report with BullMQ's job schedulers. `upsertJobScheduler` is
 * keyed by id, so restarts and several workers keep exactly one schedule (and a changed cron
 * replaces it).
 */
@Injectable()
export class SignupsReportSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger('Schedules');

  constructor(
    private readonly queues: TaskQueues,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
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

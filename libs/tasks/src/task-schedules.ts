import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';

const RETRY_MS = 5_000;

/**
 * Registers the schedule of every task type that declares one (`@TaskType({ schedule })`)
 * with BullMQ's job schedulers, in the worker. `upsertJobScheduler` is keyed by the schedule's
 * id, so restarts and several workers keep exactly one schedule (and a changed cron replaces
 * it). Runs of a schedule carry `{ scheduled: true }`: the runner asks the handler for the
 * payload, records a task row for each run and hands that task off like any other.
 */
@Injectable()
export class TaskSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Schedules');
  private readonly retries = new Set<NodeJS.Timeout>();
  private stopped = false;
  private markRegistered!: () => void;
  /** Settles once every schedule is in the queue backend (boot does not wait for it). */
  readonly registered = new Promise<void>((resolve) => (this.markRegistered = resolve));

  constructor(
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
    private readonly config: AppConfig,
  ) {}

  /** Not awaited: a worker whose Redis is down still boots (and reports it in readiness). */
  onApplicationBootstrap(): void {
    void this.registerAll().then(() => this.markRegistered());
  }

  /**
   * Upserts every schedule, retrying while Redis is unreachable; settles once all are in. At
   * boot, and again when Redis lost its data (TaskOutboxSweeper notices).
   */
  async registerAll(): Promise<void> {
    const scheduled = this.registry.all().filter((type) => type.options.schedule);
    await Promise.all(scheduled.map((type) => this.register(type)));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const retry of this.retries) clearTimeout(retry);
  }

  private async register(type: RegisteredTaskType): Promise<void> {
    for (;;) {
      try {
        await this.upsert(type);
        return;
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          `Could not register the ${type.options.name} schedule (${(error as Error).message}); retrying`,
        );
        await new Promise<void>((resolve) => {
          const retry = setTimeout(() => {
            this.retries.delete(retry);
            resolve();
          }, RETRY_MS);
          this.retries.add(retry);
        });
        if (this.stopped) return;
      }
    }
  }

  private async upsert({ options }: RegisteredTaskType): Promise<void> {
    const schedule = options.schedule!;
    const pattern = schedule.cron(this.config);
    await this.queues.get(options.queue).upsertJobScheduler(
      schedule.id,
      { pattern, tz: 'UTC' },
      {
        name: options.name,
        data: { scheduled: true },
        opts: {
          attempts: options.attempts,
          backoff: { type: 'exponential', delay: 60_000 },
          removeOnComplete: true,
          removeOnFail: { age: 86_400 },
        },
      },
    );
    this.logger.log(`${options.name} scheduled: "${pattern}" (UTC), id ${schedule.id}`);
  }
}

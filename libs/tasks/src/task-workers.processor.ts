import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueConnectionOptions } from './queue-connection';
import { TaskRegistry } from './task-registry';
import { TaskRunner, type TaskJobData } from './task-runner';

/** Left of SHUTDOWN_TIMEOUT_MS for aborted handlers to wind up and the connections to close. */
const ABORT_MARGIN_MS = 2_000;
/** With no job running, how long closing the Redis connections may take before we move on. */
const IDLE_CLOSE_MS = 1_000;

/**
 * One BullMQ worker per queue, in the worker app only. Locks are renewed while a job runs; if
 * the process dies (even SIGKILL), the lock expires and another worker takes the job up again
 * (stalled-job recovery). On shutdown the workers stop taking jobs and active ones may finish;
 * shortly before SHUTDOWN_TIMEOUT_MS runs out their handlers are aborted (a retry or another
 * worker carries on from their checkpoint).
 */
@Injectable()
export class TaskWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskWorkers');
  private readonly outage = new OutageLog(this.logger, 'The workers’ Redis');
  private readonly workers: Worker[] = [];
  private readonly shutdown = new AbortController();
  private active = 0;

  constructor(
    private readonly runner: TaskRunner,
    private readonly registry: TaskRegistry,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const concurrency = this.config.get('WORKER_CONCURRENCY');
    const queues = this.registry.queueNames();
    for (const queue of queues) {
      const worker = new Worker<TaskJobData>(
        queue,
        async (job) => {
          this.active += 1;
          try {
            await this.runner.run(job, this.shutdown.signal);
          } finally {
            this.active -= 1;
          }
        },
        {
          ...queueConnectionOptions(this.config),
          concurrency,
          lockDuration: this.config.get('TASK_LOCK_DURATION_MS'),
          stalledInterval: this.config.get('TASK_STALLED_INTERVAL_MS'),
          maxStalledCount: 2,
        },
      );
      worker.on('error', (error) => this.outage.down(`worker ${queue}: ${error.message}`));
      worker.on('ready', () => this.outage.up());
      this.workers.push(worker);
    }
    this.logger.log(`Processing queues ${queues.join(', ')} with concurrency ${concurrency}`);
  }

  async onApplicationShutdown(): Promise<void> {
    // close() stops taking jobs and waits for the active ones, but it also waits for Redis:
    // with Redis unreachable it never settles. So wait for it only while jobs are running.
    const closed = Promise.all(this.workers.map((worker) => worker.close())).then(() => true);
    const abortAt = Date.now() + this.config.get('SHUTDOWN_TIMEOUT_MS') - ABORT_MARGIN_MS;
    while (this.active > 0 && Date.now() < abortAt) {
      if (await Promise.race([closed, sleep(100, false)])) return;
    }
    if (this.active > 0) {
      this.logger.warn(`${this.active} job(s) still running at shutdown: aborting them`);
      this.shutdown.abort(new Error('The worker is shutting down'));
    }
    await Promise.race([closed, sleep(ABORT_MARGIN_MS / 2 + IDLE_CLOSE_MS)]);
  }
}

import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { Worker } from 'bullmq';
import { queueConnectionOptions } from './queue-connection';
import { TASK_QUEUES } from './task-queues';
import { TaskRunner, type TaskJobData } from './task-runner';

/**
 * One BullMQ worker per queue, in the worker app only. Locks are renewed while a job runs; if
 * the process dies (even SIGKILL), the lock expires and another worker takes the job up again
 * (stalled-job recovery). On shutdown, active jobs get SHUTDOWN_TIMEOUT_MS to finish.
 */
@Injectable()
export class TaskWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskWorkers');
  private readonly workers: Worker[] = [];
  private readonly shutdown = new AbortController();

  constructor(
    private readonly runner: TaskRunner,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const concurrency = this.config.get('WORKER_CONCURRENCY');
    for (const queue of TASK_QUEUES) {
      const worker = new Worker<TaskJobData>(
        queue,
        (job) => this.runner.run(job, this.shutdown.signal),
        {
          ...queueConnectionOptions(this.config),
          concurrency,
          lockDuration: this.config.get('TASK_LOCK_DURATION_MS'),
          stalledInterval: this.config.get('TASK_STALLED_INTERVAL_MS'),
          maxStalledCount: 2,
        },
      );
      worker.on('error', (error) => this.logger.error(`Worker ${queue}: ${error.message}`));
      this.workers.push(worker);
    }
    this.logger.log(`Processing queues ${TASK_QUEUES.join(', ')} with concurrency ${concurrency}`);
  }

  async onApplicationShutdown(): Promise<void> {
    // close() stops taking jobs and waits for the active ones; the lifecycle timeout bounds it.
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}

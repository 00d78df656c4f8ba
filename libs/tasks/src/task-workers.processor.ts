import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { isDatabaseUnreachable } from '@girder/errors';
import { OutageLog } from '@girder/logging';
import { DelayedError, type Job, type Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortableDelay } from './abortable-delay';
import { QueueBackend } from './queue-backend';
import { TaskRegistry } from './task-registry';
import { TaskRunner, type TaskJobData } from './task-runner';
import { TasksRepository } from './tasks.repository';

/** Left of SHUTDOWN_TIMEOUT_MS for aborted handlers to wind up and the connections to close. */
const ABORT_MARGIN_MS = 2_000;
/** With no job running, how long closing the queue connections may take before we move on. */
const IDLE_CLOSE_MS = 1_000;
/** A job put back because PostgreSQL was unreachable runs again after this long (at the earliest). */
export const DATABASE_RETRY_MS = 1_000;
/** How often a worker paused for PostgreSQL checks whether it answers again. */
const DATABASE_PROBE_MS = 1_000;

/**
 * One BullMQ worker per queue, in the worker app only. Locks are renewed while a job runs; if
 * the process dies (even SIGKILL), the lock expires and another worker takes the job up again
 * (stalled-job recovery). On shutdown the workers stop taking jobs and active ones may finish;
 * shortly before SHUTDOWN_TIMEOUT_MS runs out their handlers are aborted (a retry or another
 * worker carries on from their checkpoint).
 *
 * While a task runs, its row is touched every third of TASK_LOCK_DURATION_MS (a heartbeat in
 * PostgreSQL: reconciliation never hands off again a task a live worker is running). A job that
 * failed because PostgreSQL was unreachable goes back to the queue (delayed, no attempt used)
 * and this process's workers pause until PostgreSQL answers again.
 */
@Injectable()
export class TaskWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskWorkers');
  private readonly outage: OutageLog;
  private readonly workers: Worker[] = [];
  private readonly shutdown = new AbortController();
  private readonly closing = new AbortController();
  private heartbeat?: NodeJS.Timeout;
  private pausedForDatabase = false;
  private active = 0;

  constructor(
    private readonly runner: TaskRunner,
    private readonly registry: TaskRegistry,
    private readonly tasks: TasksRepository,
    private readonly config: AppConfig,
    private readonly backend: QueueBackend,
  ) {
    this.outage = new OutageLog(this.logger, `The workers’ ${backend.name}`);
  }

  onApplicationBootstrap(): void {
    const concurrency = this.config.get('WORKER_CONCURRENCY');
    const queues = this.registry.queueNames();
    for (const queue of queues) {
      const worker = this.backend.createWorker<TaskJobData>(
        queue,
        (job, token) => this.process(job, token),
        {
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
    const beatEvery = Math.max(250, Math.floor(this.config.get('TASK_LOCK_DURATION_MS') / 3));
    this.heartbeat = setInterval(() => void this.beat(), beatEvery);
    this.logger.log(`Processing queues ${queues.join(', ')} with concurrency ${concurrency}`);
  }

  /** The processor of every queue. */
  async process(job: Job<TaskJobData>, token?: string): Promise<void> {
    this.active += 1;
    try {
      await this.runner.run(job, this.shutdown.signal);
    } catch (error) {
      if (!isDatabaseUnreachable(error) || !token) throw error;
      this.pauseUntilDatabaseAnswers(error);
      // Back to the queue without using up an attempt (BullMQ's moveToDelayed skips the count).
      await job.moveToDelayed(Date.now() + DATABASE_RETRY_MS, token);
      throw new DelayedError(`PostgreSQL is unreachable: job ${job.id} waits`);
    } finally {
      this.active -= 1;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing.abort();
    clearInterval(this.heartbeat);
    // close() stops taking jobs and waits for the active ones, but it also waits for the
    // queues' store: with Redis unreachable it never settles. So wait for it only while jobs are running.
    const closed = Promise.all(this.workers.map((worker) => worker.close())).then(() => true);
    const abortAt = Date.now() + this.config.get('SHUTDOWN_TIMEOUT_MS') - ABORT_MARGIN_MS;
    while (this.active > 0 && Date.now() < abortAt) {
      if (await Promise.race([closed, sleep(100, false)])) return;
    }
    if (this.active > 0) {
      this.logger.warn(`${this.active} job(s) still running at shutdown: aborting them`);
      this.shutdown.abort(new Error('The worker is shutting down'));
    }
    // Unref'd: once everything is closed, this bound must not keep the process alive.
    await Promise.race([
      closed,
      sleep(ABORT_MARGIN_MS / 2 + IDLE_CLOSE_MS, undefined, { ref: false }),
    ]);
  }

  private async beat(): Promise<void> {
    try {
      await this.tasks.touch(this.runner.runningTaskIds());
    } catch {
      // PostgreSQL unreachable: the next beat, or the runner's outcome retries, will tell.
    }
  }

  private pauseUntilDatabaseAnswers(error: unknown): void {
    if (this.pausedForDatabase || this.closing.signal.aborted) return;
    this.pausedForDatabase = true;
    this.logger.warn(
      `PostgreSQL is unreachable (${error instanceof Error ? error.message : String(error)}): ` +
        'jobs wait without using an attempt; workers paused until it answers',
    );
    for (const worker of this.workers) worker.pause(true).catch(() => undefined);
    void this.resumeWhenDatabaseAnswers();
  }

  private async resumeWhenDatabaseAnswers(): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (!(await abortableDelay(DATABASE_PROBE_MS, this.closing.signal))) return;
      try {
        await this.tasks.ping();
        break;
      } catch {
        // still unreachable
      }
    }
    this.pausedForDatabase = false;
    for (const worker of this.workers) worker.resume().catch(() => undefined);
    this.logger.log(
      `PostgreSQL answers again after ${Math.round((Date.now() - started) / 1000)} s: workers resumed`,
    );
  }
}

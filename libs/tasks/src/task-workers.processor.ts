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
/** At most this many jobs wait outside a slot for their outcome to commit; more wait in theirs. */
const MAX_COMPLETING = 1_000;

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
 *
 * A slot is free as soon as its handler has succeeded: the job's outcome is then written (with
 * the outcomes of other jobs ending about then) while the slot runs the next job, and the job
 * is completed in BullMQ, by hand with its lock token, only once its outcome is committed. So a
 * job is never gone before its outcome is durable, and the next job does not wait for the
 * previous one's commit. Until then the heartbeat keeps the job's lock.
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
  /** Jobs whose handler is done and whose outcome is being written, with their lock token. */
  private readonly completing = new Map<Job<TaskJobData>, string>();

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
    let recording = false;
    let run!: Promise<void>;
    try {
      // Settles when the run ends, or as soon as its handler has succeeded and only its outcome
      // is left to write.
      await new Promise<void>((handlerDone) => {
        run = this.runner.run(job, this.shutdown.signal, () => {
          recording = true;
          handlerDone();
        });
        run.then(handlerDone, handlerDone);
      });
      if (!recording || !token || !this.mayCompleteLater()) {
        await run;
        return;
      }
      this.completeOnceRecorded(job, token, run);
    } catch (error) {
      if (await this.putBackIfDatabaseUnreachable(job, token, error)) {
        throw new DelayedError(`PostgreSQL is unreachable: job ${job.id} waits`);
      }
      throw error;
    } finally {
      this.active -= 1;
    }
    // BullMQ's signal for a job moved on by hand: the slot takes the next job, this one waits.
    throw new DelayedError(`Job ${job.id} completes once its outcome is recorded`);
  }

  private mayCompleteLater(): boolean {
    return !this.closing.signal.aborted && this.completing.size < MAX_COMPLETING;
  }

  /** Completes the job once its outcome is committed; moves it on as its slot would otherwise. */
  private completeOnceRecorded(job: Job<TaskJobData>, token: string, run: Promise<void>): void {
    this.completing.set(job, token);
    run
      .then(
        () => job.moveToCompleted(undefined, token, false),
        async (error: unknown) => {
          if (await this.putBackIfDatabaseUnreachable(job, token, error)) return;
          // The outcome was refused: the runner recorded the failure; BullMQ retries or fails.
          await job.moveToFailed(error as Error, token, false);
        },
      )
      .catch((error: Error) =>
        // Its lock is gone (it stalled and another worker took it): the task record decides.
        this.logger.warn(`Job ${job.id} could not be moved on: ${error.message}`),
      )
      .finally(() => this.completing.delete(job));
  }

  /**
   * A job that failed only because PostgreSQL is unreachable goes back to its queue without
   * using up an attempt, and this process's workers pause; answers whether it was put back.
   */
  private async putBackIfDatabaseUnreachable(
    job: Job<TaskJobData>,
    token: string | undefined,
    error: unknown,
  ): Promise<boolean> {
    if (!isDatabaseUnreachable(error) || !token) return false;
    this.pauseUntilDatabaseAnswers(error);
    // Back to the queue without using up an attempt (BullMQ's moveToDelayed skips the count).
    await job.moveToDelayed(Date.now() + DATABASE_RETRY_MS, token);
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing.abort();
    clearInterval(this.heartbeat);
    // Take no more jobs; let the running ones finish and the recorded ones be completed while
    // the connections are still open. close() waits for running jobs too, but it also waits for
    // the queues' store: with Redis unreachable it never settles, so it is bounded below.
    for (const worker of this.workers) worker.pause(true).catch(() => undefined);
    const busy = () => this.active + this.completing.size;
    const abortAt = Date.now() + this.config.get('SHUTDOWN_TIMEOUT_MS') - ABORT_MARGIN_MS;
    while (busy() > 0 && Date.now() < abortAt) await sleep(50);
    if (busy() > 0) {
      this.logger.warn(`${busy()} job(s) still running at shutdown: aborting them`);
      this.shutdown.abort(new Error('The worker is shutting down'));
      const woundUpBy = Date.now() + ABORT_MARGIN_MS / 2;
      while (busy() > 0 && Date.now() < woundUpBy) await sleep(50);
    }
    const closed = Promise.all(this.workers.map((worker) => worker.close()));
    // Unref'd: once everything is closed, this bound must not keep the process alive.
    await Promise.race([closed, sleep(IDLE_CLOSE_MS, undefined, { ref: false })]);
  }

  private async beat(): Promise<void> {
    // BullMQ renews the locks of the jobs in its slots only.
    const lockMs = this.config.get('TASK_LOCK_DURATION_MS');
    for (const [job, token] of this.completing)
      job.extendLock(token, lockMs).catch(() => undefined);
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

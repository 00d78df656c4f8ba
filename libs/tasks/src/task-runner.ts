import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnreachable } from '@girder/errors';
import { OutageLog } from '@girder/logging';
import { UnrecoverableError, type Job } from 'bullmq';
import { abortableDelay } from './abortable-delay';
import { TaskMetrics } from './task-metrics';
import { TaskOutbox, type TaskJobData } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskRegistry } from './task-registry';
import { TaskStateWriter } from './task-state-writer';
import type { TaskContext } from './task-type';
import { TasksRepository } from './tasks.repository';

export type { TaskJobData } from './task-outbox';

class TaskTimeoutError extends Error {}

/** Backoff of a task outcome that could not be recorded because PostgreSQL was unreachable. */
const RECORD_RETRY_FIRST_MS = 250;
const RECORD_RETRY_MAX_MS = 5_000;

/** Readable, bounded error text for the task record (no stack traces). */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 1_000) || 'The task failed.';
}

/**
 * Runs one job in the worker and keeps its task record truthful: running → succeeded, or
 * failed after the last attempt (queued again in between). A job whose task is cancelled or
 * already finished (a stalled job run again after a crash, a job handed off twice) is skipped,
 * so each task ends once.
 *
 * PostgreSQL unreachable: an outcome is recorded once it is back (retried with backoff, never
 * dropped); an attempt that failed only because of it is not recorded as failed, and the error
 * reaches TaskWorkers, which puts the job back without using up an attempt.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');
  private readonly outage = new OutageLog(this.logger, 'Recording task outcomes in PostgreSQL');
  private readonly running = new Set<string>();

  constructor(
    private readonly registry: TaskRegistry,
    private readonly tasks: TasksRepository,
    private readonly metrics: TaskMetrics,
    private readonly vault: TaskPayloadVault,
    private readonly outbox: TaskOutbox,
    private readonly state: TaskStateWriter,
  ) {}

  /** The tasks this process is running now (TaskWorkers' heartbeat keeps their rows fresh). */
  runningTaskIds(): string[] {
    return [...this.running];
  }

  /**
   * Runs the job's task. `onRecording` is called when the handler has succeeded and its
   * outcome is being written (the run's promise settles once it is committed).
   */
  async run(job: Job<TaskJobData>, shutdown: AbortSignal, onRecording?: () => void): Promise<void> {
    const registered = this.registry.get(job.name);
    if (!registered) {
      // A worker built without this type (an old deployment?): fail the task visibly, never leave it queued.
      const message = `This worker does not know the task type ${job.name}`;
      if (job.data.taskId) await this.tasks.failQueued(job.data.taskId, message);
      throw new UnrecoverableError(message);
    }
    const { options } = registered;

    if (job.data.scheduled) {
      // A schedule's run becomes a task of its own, handed off (and recovered) like any other.
      const taskId = await this.outbox.submitScheduled(registered, job.id!);
      this.logger.log(`Scheduled ${options.name} run recorded as task ${taskId}`);
      return;
    }
    const taskId = job.data.taskId;
    if (!taskId) throw new UnrecoverableError('Job without a task id');

    const attempt = (job.data.attemptsBefore ?? 0) + job.attemptsMade + 1;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!(await this.state.markRunning(taskId, attempt))) {
      this.logger.log(`Task ${taskId} is cancelled or already finished: skipped`);
      this.metrics.countRun(options.queue, options.name, 'skipped');
      await this.vault.remove(taskId);
      return;
    }
    this.running.add(taskId);
    try {
      await this.runClaimed(job, taskId, attempt, lastAttempt, shutdown, onRecording);
    } finally {
      this.running.delete(taskId);
    }
  }

  private async runClaimed(
    job: Job<TaskJobData>,
    taskId: string,
    attempt: number,
    lastAttempt: boolean,
    shutdown: AbortSignal,
    onRecording?: () => void,
  ): Promise<void> {
    const { options, handler } = this.registry.get(job.name)!;
    let payload = job.data.payload ?? {};
    if (job.data.payloadRef) {
      try {
        payload = await this.vault.load(job.data.payloadRef);
      } catch {
        const message = 'The task input is no longer available (STORAGE_DIR shared and kept?)';
        await this.record(() => this.state.markFailed(taskId, message, true), shutdown);
        this.metrics.countRun(options.queue, options.name, 'failed');
        throw new UnrecoverableError(message);
      }
    }

    const controller = new AbortController();
    const abortOnShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', abortOnShutdown);
    let timer: NodeJS.Timeout | undefined;
    const context: TaskContext = {
      taskId,
      attempt,
      signal: controller.signal,
      reportProgress: async (percent) => {
        await this.tasks.setProgress(taskId, percent);
        await job.updateProgress(Math.round(percent));
      },
      loadCheckpoint: <T extends object>() => this.tasks.getCheckpoint<T>(taskId),
      saveCheckpoint: (checkpoint, progress) =>
        this.tasks.saveCheckpoint(taskId, checkpoint, progress),
    };
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new TaskTimeoutError(`Timed out after ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      });
      const result = await Promise.race([handler.run(payload, context), timeout]);
      clearTimeout(timer);
      onRecording?.();
      await this.record(
        () => this.state.markSucceeded(taskId, result, handler.file?.(result)),
        shutdown,
      );
      if (job.data.payloadRef) await this.vault.remove(taskId);
      this.metrics.countRun(options.queue, options.name, 'succeeded');
    } catch (error) {
      // The attempt failed only because PostgreSQL is unreachable: not the task's failure.
      if (isDatabaseUnreachable(error)) throw error;
      const final = error instanceof UnrecoverableError || lastAttempt;
      await this.record(() => this.state.markFailed(taskId, describeError(error), final), shutdown);
      if (final && job.data.payloadRef) await this.vault.remove(taskId);
      this.metrics.countRun(options.queue, options.name, final ? 'failed' : 'retried');
      this.logger.warn(
        `Task ${taskId} (${job.name}) attempt ${attempt} failed${final ? ', giving up' : ', will retry'}: ${describeError(error)}`,
      );
      throw error;
    } finally {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', abortOnShutdown);
    }
  }

  /**
   * Writes an outcome, retrying with backoff while PostgreSQL is unreachable: the work is done,
   * so its outcome is never dropped. Only shutdown ends the wait (the job then runs again).
   */
  private async record(write: () => Promise<void>, shutdown: AbortSignal): Promise<void> {
    for (let delay = RECORD_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RECORD_RETRY_MAX_MS)) {
      try {
        await write();
        this.outage.up();
        return;
      } catch (error) {
        if (!isDatabaseUnreachable(error) || shutdown.aborted) throw error;
        this.outage.down(error);
        if (!(await abortableDelay(delay, shutdown))) throw error;
      }
    }
  }
}

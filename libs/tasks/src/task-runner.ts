import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { createHash } from 'node:crypto';
import { TaskMetrics } from './task-metrics';
import { TaskPayloadVault, type PayloadReference } from './task-payload-vault';
import { TaskRegistry } from './task-registry';
import type { TaskContext } from './task-type';
import { TasksRepository } from './tasks.repository';

export interface TaskJobData {
  taskId?: string;
  payload?: object;
  /** Instead of `payload`, for types whose payload holds secrets (see TaskPayloadVault). */
  payloadRef?: PayloadReference;
  /** Set by job schedulers: the handler builds its own payload. */
  scheduled?: boolean;
}

class TaskTimeoutError extends Error {}

/** A stable UUID for a scheduled job, so a re-run after a crash finds the same task row. */
function taskIdForJob(jobId: string): string {
  const hex = createHash('sha256').update(`girder-task:${jobId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Readable, bounded error text for the task record (no stack traces). */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 1_000) || 'The task failed.';
}

/**
 * Runs one job in the worker and keeps its task record truthful: running → succeeded, or
 * failed after the last attempt (queued again in between). A job whose task is cancelled or
 * already finished (a stalled job run again after a crash) is skipped, so each task ends once.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('TaskRunner');

  constructor(
    private readonly registry: TaskRegistry,
    private readonly tasks: TasksRepository,
    private readonly metrics: TaskMetrics,
    private readonly vault: TaskPayloadVault,
  ) {}

  async run(job: Job<TaskJobData>, shutdown: AbortSignal): Promise<void> {
    const registered = this.registry.get(job.name);
    if (!registered) {
      // A worker built without this type (an old deployment?): fail the task visibly, never leave it queued.
      const message = `This worker does not know the task type ${job.name}`;
      if (job.data.taskId) await this.tasks.failQueued(job.data.taskId, message);
      throw new UnrecoverableError(message);
    }
    const { options, handler } = registered;

    let taskId = job.data.taskId;
    let payload = job.data.payload ?? {};
    if (job.data.scheduled) {
      taskId = taskIdForJob(job.id!);
      payload = handler.scheduledPayload?.() ?? {};
      await this.tasks.insertIfAbsent({
        id: taskId,
        type: options.name,
        queue: options.queue,
        payload: { ...payload },
        ownerId: null,
      });
    }
    if (!taskId) throw new UnrecoverableError('Job without a task id');

    const attempt = job.attemptsMade + 1;
    if (!(await this.tasks.markRunning(taskId, attempt))) {
      this.logger.log(`Task ${taskId} is cancelled or already finished: skipped`);
      this.metrics.countRun(options.queue, options.name, 'skipped');
      await this.vault.remove(taskId);
      return;
    }
    if (job.data.payloadRef) {
      try {
        payload = await this.vault.load(job.data.payloadRef);
      } catch {
        const message = 'The task input is no longer available (STORAGE_DIR shared and kept?)';
        await this.tasks.markFailed(taskId, message, true);
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
      await this.tasks.markSucceeded(taskId, result, handler.file?.(result));
      if (job.data.payloadRef) await this.vault.remove(taskId);
      this.metrics.countRun(options.queue, options.name, 'succeeded');
    } catch (error) {
      const final = error instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      await this.tasks.markFailed(taskId, describeError(error), final);
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
}

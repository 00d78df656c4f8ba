import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnreachable } from '@girder/errors';
import { OutageLog } from '@girder/logging';
import { AppConfig } from '@girder/config';
import { UnrecoverableError, type Job } from 'bullmq';
import { AsyncLocalStorage } from 'node:async_hooks';
import { abortableDelay } from './abortable-delay';
import { TaskMetrics } from './task-metrics';
import { TaskOutbox, type TaskJobData } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskRegistry } from './task-registry';
import { TaskStateWriter, type TaskRun } from './task-state-writer';
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

/** Why a run stops when its task was cancelled or finished elsewhere while it ran. */
class RunRevokedError extends Error {}

/**
 * Runs one job in the worker and keeps its task record truthful: queued → succeeded (or
 * failed after the last attempt; queued again in between). A job whose task is cancelled or
 * already finished (a stalled job run again after a crash, a job handed off twice) is skipped,
 * so each task ends once.
 *
 * A quick run writes no `running` state: its outcome takes the task from queued to its end in
 * one write, grouped with other runs' outcomes. A run still going after `TASK_RUNNING_AFTER_MS`,
 * or reporting progress or a checkpoint, is claimed first (recorded as running, then kept
 * fresh by the worker's heartbeat). Before it starts, a run reads how its task stands; a task
 * a cancel is under way for is claimed before running, which waits for the cancel to end. A
 * cancel that comes later finds the job active in its queue and answers 409 (TasksService).
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
  private readonly runningAfterMs: number;
  /**
   * Runs a function in the context this runner was built in, where no request or transaction
   * is open: claims are written there (see RunClaim). Taken once, off the per-job path.
   */
  private readonly outsideAnyContext = AsyncLocalStorage.snapshot();

  constructor(
    private readonly registry: TaskRegistry,
    private readonly tasks: TasksRepository,
    private readonly metrics: TaskMetrics,
    private readonly vault: TaskPayloadVault,
    private readonly outbox: TaskOutbox,
    private readonly state: TaskStateWriter,
    config: AppConfig,
  ) {
    this.runningAfterMs = config.get('TASK_RUNNING_AFTER_MS');
  }

  /** The tasks this process has claimed and is running (TaskWorkers' heartbeat keeps them fresh). */
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

    const run: TaskRun = {
      id: taskId,
      attempt: (job.data.attemptsBefore ?? 0) + job.attemptsMade + 1,
      startedAt: new Date(),
    };
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const claim = new RunClaim(run, this.state, this.running, this.outsideAnyContext);
    const standing = await this.state.standing(taskId);
    if (standing === 'ended' || (standing === 'contended' && !(await claim.claim()))) {
      this.logger.log(`Task ${taskId} is cancelled or already finished: skipped`);
      await this.skip(taskId, options.queue, options.name);
      return;
    }
    try {
      await this.runHandler(job, run, claim, lastAttempt, shutdown, onRecording);
    } catch (error) {
      if (!(error instanceof RunRevokedError)) throw error;
      this.logger.warn(`Task ${taskId} was cancelled or finished elsewhere while it ran: stopped`);
      await this.skip(taskId, options.queue, options.name);
    } finally {
      claim.end();
    }
  }

  private async skip(taskId: string, queue: string, type: string): Promise<void> {
    this.metrics.countRun(queue, type, 'skipped');
    await this.vault.remove(taskId);
  }

  private async runHandler(
    job: Job<TaskJobData>,
    run: TaskRun,
    claim: RunClaim,
    lastAttempt: boolean,
    shutdown: AbortSignal,
    onRecording?: () => void,
  ): Promise<void> {
    const { options, handler } = this.registry.get(job.name)!;
    const taskId = run.id;
    let payload = job.data.payload ?? {};
    if (job.data.payloadRef) {
      try {
        payload = await this.vault.load(job.data.payloadRef);
      } catch {
        const message = 'The task input is no longer available (STORAGE_DIR shared and kept?)';
        await this.record(() => this.state.markFailed(run, message, true), shutdown);
        this.metrics.countRun(options.queue, options.name, 'failed');
        throw new UnrecoverableError(message);
      }
    }

    const controller = new AbortController();
    const abortOnShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', abortOnShutdown);
    claim.onRevoked(() => controller.abort(new RunRevokedError('The task ended elsewhere')));
    let timer: NodeJS.Timeout | undefined;
    const context: TaskContext = {
      taskId,
      attempt: run.attempt,
      signal: controller.signal,
      reportProgress: async (percent) => {
        await claim.required();
        await this.tasks.setProgress(taskId, percent);
        await job.updateProgress(Math.round(percent));
      },
      loadCheckpoint: <T extends object>() => this.tasks.getCheckpoint<T>(taskId),
      saveCheckpoint: async (checkpoint, progress) => {
        await claim.required();
        await this.tasks.saveCheckpoint(taskId, checkpoint, progress);
      },
    };
    claim.after(this.runningAfterMs);
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new TaskTimeoutError(`Timed out after ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      });
      const result = await Promise.race([handler.run(payload, context), timeout]);
      clearTimeout(timer);
      await claim.settled();
      if (claim.revoked) throw new RunRevokedError('The task ended elsewhere');
      onRecording?.();
      await this.record(
        () => this.state.markSucceeded(run, result, handler.file?.(result)),
        shutdown,
      );
      if (job.data.payloadRef) await this.vault.remove(taskId);
      this.metrics.countRun(options.queue, options.name, 'succeeded');
    } catch (error) {
      await claim.settled();
      if (claim.revoked) throw new RunRevokedError('The task ended elsewhere');
      // The attempt failed only because PostgreSQL is unreachable: not the task's failure.
      if (isDatabaseUnreachable(error)) throw error;
      const final = error instanceof UnrecoverableError || lastAttempt;
      await this.record(() => this.state.markFailed(run, describeError(error), final), shutdown);
      if (final && job.data.payloadRef) await this.vault.remove(taskId);
      this.metrics.countRun(options.queue, options.name, final ? 'failed' : 'retried');
      this.logger.warn(
        `Task ${taskId} (${job.name}) attempt ${run.attempt} failed${final ? ', giving up' : ', will retry'}: ${describeError(error)}`,
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

/**
 * The `running` record of one run, written at most once: when the run has gone on for a while,
 * or before its first progress report or checkpoint, or before it starts when its row is
 * contended. The claim is written outside any transaction the handler has open (the runner's
 * own context), so it commits on its own and can be grouped with other runs' claims.
 */
class RunClaim {
  revoked = false;
  private claiming?: Promise<boolean>;
  private timer?: NodeJS.Timeout;
  private whenRevoked?: () => void;
  constructor(
    private readonly run: TaskRun,
    private readonly state: TaskStateWriter,
    private readonly running: Set<string>,
    private readonly outside: <R>(work: () => R) => R,
  ) {}

  /** Claims the task (once); answers whether it is still unfinished. */
  claim(): Promise<boolean> {
    clearTimeout(this.timer);
    this.claiming ??= this.outside(() => this.state.markRunning(this.run)).then((claimed) => {
      if (claimed) this.running.add(this.run.id);
      else this.revoke();
      return claimed;
    });
    return this.claiming;
  }

  /** Claims the task before a write that only a running task makes; throws when it ended. */
  async required(): Promise<void> {
    if (!(await this.claim())) throw new RunRevokedError('The task ended elsewhere');
  }

  /** Claims the task once the run has gone on this long. */
  after(ms: number): void {
    if (this.claiming) return;
    // An unreachable database fails the claim here; the outcome's own retries will tell.
    this.timer = setTimeout(() => void this.claim().catch(() => undefined), ms);
  }

  onRevoked(listener: () => void): void {
    this.whenRevoked = listener;
  }

  /** Waits for a claim in flight, so that it never lands after the outcome. */
  async settled(): Promise<void> {
    clearTimeout(this.timer);
    await this.claiming?.catch(() => undefined);
  }

  end(): void {
    clearTimeout(this.timer);
    this.running.delete(this.run.id);
  }

  private revoke(): void {
    this.revoked = true;
    this.whenRevoked?.();
  }
}

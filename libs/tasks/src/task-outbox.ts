import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { afterCommit } from '@girder/database';
import { OutageLog } from '@girder/logging';
import type { JobsOptions } from 'bullmq';
import DataLoader from 'dataloader';
import { createHash, randomUUID } from 'node:crypto';
import { groupedWrites } from './grouped-writes';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';
import type { Task } from './task.entity';
import { TasksRepository, type NewTask, type OutboxRow } from './tasks.repository';

/** What a task's BullMQ job carries (its id is the task id). */
export interface TaskJobData {
  taskId?: string;
  payload?: object;
  /** Instead of `payload`, for types whose payload holds secrets (see TaskPayloadVault). */
  payloadRef?: { file: string };
  /** Attempts the task used up before this job (a job handed off again after Redis lost it). */
  attemptsBefore?: number;
  /** Set by job schedulers: the run records its own task and hands that off. */
  scheduled?: boolean;
}

/** How long one hand-off may take before the task is left to the sweep. */
export const HAND_OFF_TIMEOUT_MS = 2_000;
/** How long a hand-off waits for a queue that has not connected yet. */
const FIRST_CONNECT_WAIT_MS = 200;
/**
 * Submissions record their hand-off together, this often: one UPDATE for many tasks instead
 * of one each. Until then (or if the process dies first) the sweep may add the job again,
 * which is harmless.
 */
export const MARK_ENQUEUED_EVERY_MS = 25;

/** The most submissions one INSERT or one addBulk carries. */
const GROUP_LIMIT = 500;

/** A stable UUID for a scheduled job, so a re-run after a crash finds the same task row. */
export function taskIdForJob(jobId: string): string {
  const hex = createHash('sha256').update(`girder-task:${jobId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Whether the type's job points at a payload file instead of carrying the payload: secret
 * payloads, and payloads the task record shows only a description of (the record alone could
 * not rebuild their job).
 */
export function keepsPayloadInVault({ options, handler }: RegisteredTaskType): boolean {
  return options.secretPayload || typeof handler.describePayload === 'function';
}

function rejectAfter(ms: number, message: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * The transactional outbox of the task queues. A submitted task is a row of the `tasks` table,
 * written in the caller's transaction; its BullMQ job is added once that commits (at once
 * without a transaction). When Redis is unreachable then, or the process dies in between, the
 * row stays `enqueued_at IS NULL` and the worker's sweep (TaskOutboxSweeper) hands it off later.
 * The job id is the task id and the job is built from the row alone, so handing a task off
 * twice is harmless.
 */
@Injectable()
export class TaskOutbox implements OnApplicationShutdown {
  private readonly logger = new Logger('TaskOutbox');
  private readonly outage = new OutageLog(this.logger, 'Handing tasks to their queue', 'warn');
  private readonly unknownTypes = new Set<string>();
  private readonly toMark = new Set<string>();
  private markTimer?: NodeJS.Timeout;
  private marking?: Promise<void>;
  readonly prefix: string;
  /**
   * Submissions outside a transaction that arrive together (the same tick) share one INSERT,
   * and hand-offs one addBulk per queue: one round trip for many tasks instead of one each.
   */
  private readonly inserts = groupedWrites(
    (rows: NewTask[]) => this.tasks.insert(rows),
    GROUP_LIMIT,
  );
  private readonly handOffs = new DataLoader<OutboxRow, boolean>(
    async (rows) => {
      const added = new Set(await this.handOff([...rows], { markLater: true }));
      return rows.map((row) => added.has(row.id));
    },
    { cache: false, maxBatchSize: GROUP_LIMIT },
  );

  constructor(
    private readonly tasks: TasksRepository,
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
    private readonly vault: TaskPayloadVault,
    config: AppConfig,
  ) {
    this.prefix = config.get('REDIS_KEY_PREFIX');
  }

  /**
   * Records a task (in the caller's transaction, if any) and hands it to its queue after
   * commit. Never fails because Redis is down: the sweep takes over then.
   */
  async submit(
    registered: RegisteredTaskType,
    payload: object,
    ownerId: string | null,
  ): Promise<Task> {
    const id = randomUUID();
    const described = await this.keep(id, registered, payload);
    const row: NewTask = {
      id,
      type: registered.options.name,
      queue: registered.options.queue,
      payload: described,
      ownerId,
      queuePrefix: this.prefix,
    };
    let task: Task;
    try {
      [task] = this.tasks.inTransaction
        ? await this.tasks.insert([row])
        : [await this.inserts.load(row)];
    } catch (error) {
      if (keepsPayloadInVault(registered)) await this.vault.remove(id).catch(() => undefined);
      throw error;
    }
    await afterCommit(async () => void (await this.handOffs.load(outboxRow(task))));
    return task;
  }

  /**
   * A job scheduler's run: records its task once (the id derives from the job id, so a re-run
   * of the same scheduled job finds it) and hands that task off like any other.
   */
  async submitScheduled(registered: RegisteredTaskType, jobId: string): Promise<string> {
    const id = taskIdForJob(jobId);
    if (!(await this.tasks.exists(id))) {
      const payload = registered.handler.scheduledPayload?.() ?? {};
      await this.tasks.insertIfAbsent({
        id,
        type: registered.options.name,
        queue: registered.options.queue,
        payload: await this.keep(id, registered, payload),
        ownerId: null,
        queuePrefix: this.prefix,
      });
    }
    const row = await this.tasks.findUnfinished(id);
    if (row) await this.handOff([row]);
    return id;
  }

  /**
   * Adds each task's job to its queue and records which ones made it: inside the caller's
   * transaction, if any, or with `markLater` a moment later, batched with other submissions.
   * Answers their ids; never throws: what did not make it stays in the outbox for the next
   * sweep.
   */
  async handOff(rows: OutboxRow[], { markLater = false } = {}): Promise<string[]> {
    const byQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      if (!this.registry.get(row.type)) {
        // A deployment without this type: a process that has it hands it off.
        if (!this.unknownTypes.has(row.type)) {
          this.unknownTypes.add(row.type);
          this.logger.warn(`Tasks of type ${row.type} wait: this process does not know it`);
        }
        continue;
      }
      const queued = byQueue.get(row.queue);
      if (queued) queued.push(row);
      else byQueue.set(row.queue, [row]);
    }
    const added = await Promise.all(
      [...byQueue].map(([queue, queued]) =>
        this.add(queue, queued).then(
          () => queued.map((row) => row.id),
          (error: Error) => {
            this.outage.down(`${queued.length} task(s) of the ${queue} queue: ${error.message}`);
            return [];
          },
        ),
      ),
    );
    const ids = added.flat();
    if (ids.length > 0) this.outage.up();
    if (markLater) {
      for (const id of ids) this.toMark.add(id);
      this.markTimer ??= setTimeout(() => void this.markPending(), MARK_ENQUEUED_EVERY_MS);
      return ids;
    }
    try {
      await this.tasks.markEnqueued(ids);
    } catch (error) {
      // The jobs are in; the sweep adds them again (a no-op: same job ids).
      this.logger.warn(`Could not record the hand-off of ${ids.length} task(s): ${String(error)}`);
    }
    return ids;
  }

  /** Records the pending hand-offs before the process ends. */
  async onApplicationShutdown(): Promise<void> {
    await this.marking;
    if (this.toMark.size > 0) await this.markPending();
  }

  private async markPending(): Promise<void> {
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    const ids = [...this.toMark];
    this.toMark.clear();
    this.marking = this.tasks.markEnqueued(ids).catch((error: unknown) => {
      this.logger.warn(`Could not record the hand-off of ${ids.length} task(s): ${String(error)}`);
    });
    await this.marking;
  }

  /**
   * Adds the tasks' jobs, built from their records, to their queue in one call (BullMQ's
   * addBulk: one round trip); fails fast when the queue is unreachable.
   */
  private async add(queue: string, rows: OutboxRow[]): Promise<void> {
    if (!(await this.queues.isConnected(queue, FIRST_CONNECT_WAIT_MS))) {
      throw new Error(`the ${queue} queue is not connected`);
    }
    const timeout = rejectAfter(HAND_OFF_TIMEOUT_MS, `adding the jobs timed out`);
    const adding = this.queues.get(queue).addBulk(rows.map((row) => this.job(row)));
    adding.catch(() => undefined); // it may still settle after the timeout
    try {
      await Promise.race([adding, timeout.promise]);
    } finally {
      timeout.cancel();
    }
  }

  private job(row: OutboxRow): { name: string; data: TaskJobData; opts: JobsOptions } {
    const registered = this.registry.get(row.type)!;
    const { options } = registered;
    // A running task's attempt did not finish: it runs again as the same attempt.
    const before = row.status === 'running' ? Math.max(0, row.attempts - 1) : row.attempts;
    const data: TaskJobData = keepsPayloadInVault(registered)
      ? { taskId: row.id, payloadRef: this.vault.reference(row.id) }
      : { taskId: row.id, payload: row.payload };
    if (before > 0) data.attemptsBefore = before;
    return {
      name: options.name,
      data,
      opts: {
        jobId: row.id,
        attempts: Math.max(1, options.attempts - before),
        backoff: { type: 'exponential', delay: options.backoffMs },
        // The tasks table is the durable record; job data (which may hold secrets) goes.
        removeOnComplete: true,
        removeOnFail: { age: 3_600 },
      },
    };
  }

  /** Stores the payload where the job will find it; answers what the task record shows. */
  private async keep(
    id: string,
    registered: RegisteredTaskType,
    payload: object,
  ): Promise<Record<string, unknown>> {
    if (keepsPayloadInVault(registered)) await this.vault.store(id, payload);
    return (
      registered.handler.describePayload?.(payload) ?? { ...(payload as Record<string, unknown>) }
    );
  }
}

function outboxRow(task: Task): OutboxRow {
  return {
    id: task.id,
    type: task.type,
    queue: task.queue,
    status: 'queued',
    attempts: task.attempts,
    payload: task.payload,
  };
}

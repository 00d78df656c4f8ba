import { Injectable } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { PreparedStatement, TransactionalRepository } from '@girder/database';
import type { KeysetPosition } from '@girder/http';
import { In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Task } from './task.entity';

export type NewTask = Pick<Task, 'type' | 'queue' | 'payload' | 'ownerId'> & {
  id?: string;
  queuePrefix?: string;
};

/** What handing a task to its queue needs: the job is built from the record alone. */
export interface OutboxRow {
  id: string;
  type: string;
  queue: string;
  status: 'queued' | 'running';
  attempts: number;
  payload: Record<string, unknown>;
}

/** A run of a task: the task, the attempt it runs as, and when it started. */
export interface TaskRun {
  id: string;
  attempt: number;
  startedAt: Date;
}

export interface TaskSuccess extends TaskRun {
  result: object;
  file?: { path: string; contentType: string };
}

/** `final` ends the task; otherwise it waits (queued) for its next attempt. */
export interface TaskFailure extends TaskRun {
  error: string;
  final: boolean;
}

/**
 * What a worker may do with a task it is about to run: `ended` (cancelled, finished or gone:
 * skip it), `free` (unfinished, and no cancel is under way: run it), `contended` (unfinished,
 * but a cancel of it is under way: claim it first, which waits for the cancel to end).
 */
export type RunStanding = 'ended' | 'free' | 'contended';

const OUTBOX_COLUMNS = 'id, type, queue, status, attempts, payload';

/**
 * The advisory lock space of task cancels (PostgreSQL's two-key form: apart from the one-key
 * locks BullMQ takes); the second key is the task id's hash. A collision only sends a run the
 * slow way (claimed before it starts).
 */
const CANCEL_LOCK = 0x7461736b; // 'task'

/** The columns a run sets, from `runParameters` ($1 ids, $2 attempts, $3 start times). */
const RUN_COLUMNS = `attempts = ($2::int[])[array_position($1::uuid[], t.id)],
              started_at = coalesce(t.started_at, ($3::timestamptz[])[array_position($1::uuid[], t.id)]),
              -- A job has run, so it reached its queue (whoever handed it off).
              enqueued_at = coalesce(t.enqueued_at, now())`;

function runParameters(runs: readonly TaskRun[]): [string[], number[], Date[]] {
  return [
    runs.map((run) => run.id),
    runs.map((run) => run.attempt),
    runs.map((run) => run.startedAt),
  ];
}

// The worker's and the outbox's statements, run for every task: prepared once per connection.
const MARK_ENQUEUED = new PreparedStatement(
  'girder_tasks_mark_enqueued',
  `UPDATE tasks SET enqueued_at = now() WHERE id = ANY($1::uuid[]) AND enqueued_at IS NULL`,
);

const STANDINGS = new PreparedStatement(
  'girder_tasks_standings',
  `SELECT id, status IN ('queued', 'running') AS unfinished,
          pg_try_advisory_xact_lock_shared($2, hashtext(id::text)) AS uncontended
     FROM tasks WHERE id = ANY($1::uuid[])`,
);

const MARK_RUNNING = new PreparedStatement(
  'girder_tasks_mark_running',
  `UPDATE tasks t
       SET status = 'running', updated_at = now(), ${RUN_COLUMNS}
     WHERE t.id = ANY($1::uuid[]) AND t.status IN ('queued', 'running')
     RETURNING t.id`,
);

const MARK_SUCCEEDED = new PreparedStatement(
  'girder_tasks_mark_succeeded',
  `UPDATE tasks t
       SET status = 'succeeded', progress = 100, error = NULL, ${RUN_COLUMNS},
           result = ($4::jsonb[])[array_position($1::uuid[], t.id)],
           file_path = ($5::text[])[array_position($1::uuid[], t.id)],
           file_content_type = ($6::text[])[array_position($1::uuid[], t.id)],
           finished_at = now(), updated_at = now()
     WHERE t.id = ANY($1::uuid[]) AND t.status IN ('queued', 'running')`,
);

const MARK_FAILED = new PreparedStatement(
  'girder_tasks_mark_failed',
  `UPDATE tasks t
       SET status = CASE WHEN ($5::boolean[])[array_position($1::uuid[], t.id)]
                         THEN 'failed' ELSE 'queued' END,
           ${RUN_COLUMNS},
           error = ($4::text[])[array_position($1::uuid[], t.id)],
           finished_at = CASE WHEN ($5::boolean[])[array_position($1::uuid[], t.id)]
                              THEN now() ELSE t.finished_at END,
           updated_at = now()
     WHERE t.id = ANY($1::uuid[]) AND t.status IN ('queued', 'running')`,
);

@Injectable()
export class TasksRepository extends TransactionalRepository<Task> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Task);
  }

  /**
   * One INSERT for all of them (one commit outside a transaction), then one read of them as
   * stored; answers them in the order given.
   */
  async insert(tasks: NewTask[]): Promise<Task[]> {
    const result = await this.repository.insert(tasks as QueryDeepPartialEntity<Task>[]);
    const ids = result.identifiers.map((identifier) => identifier.id as string);
    const stored = new Map(
      (await this.repository.findBy({ id: In(ids) })).map((task) => [task.id, task]),
    );
    return ids.map((id) => stored.get(id)!);
  }

  /** For tasks whose id is derived from their job (schedules): a second insert is a no-op. */
  async insertIfAbsent(task: NewTask & { id: string }): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .insert()
      .values(task as QueryDeepPartialEntity<Task>)
      .orIgnore()
      .execute();
  }

  async exists(id: string): Promise<boolean> {
    return this.repository.exists({ where: { id } });
  }

  /** The task as the outbox sees it, or null when it is no longer queued or running. */
  async findUnfinished(id: string): Promise<OutboxRow | null> {
    const rows: OutboxRow[] = await this.manager.query(
      `SELECT ${OUTBOX_COLUMNS} FROM tasks WHERE id = $1 AND status IN ('queued', 'running')`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Runs `work` in a transaction of its own (row locks taken in it last until it ends). */
  inOwnTransaction<T>(work: () => Promise<T>): Promise<T> {
    return this.txHost.withTransaction(Propagation.RequiresNew, work);
  }

  /**
   * The outbox: committed tasks still queued whose job never reached the queue, oldest first,
   * created more than `olderThanMs` ago (younger ones are being handed off by their
   * submitter). Locked for the surrounding transaction; rows another sweeper holds are skipped.
   */
  lockUnenqueued(prefix: string, olderThanMs: number, limit: number): Promise<OutboxRow[]> {
    return this.manager.query(
      `SELECT ${OUTBOX_COLUMNS} FROM tasks
        WHERE status = 'queued' AND enqueued_at IS NULL
          AND (queue_prefix = $1 OR queue_prefix IS NULL)
          AND created_at < now() - make_interval(secs => $2::float8 / 1000)
        ORDER BY created_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED`,
      [prefix, olderThanMs, limit],
    );
  }

  /**
   * Tasks handed to the queue and not finished, by id after `afterId`: queued ones, and running
   * ones whose worker stopped saying it runs them (no update for `staleMs`: see `touch`).
   * Locked like `lockUnenqueued`.
   */
  lockHandedOff(
    prefix: string,
    afterId: string | null,
    staleMs: number,
    limit: number,
  ): Promise<OutboxRow[]> {
    return this.manager.query(
      `SELECT ${OUTBOX_COLUMNS} FROM tasks
        WHERE status IN ('queued', 'running') AND enqueued_at IS NOT NULL
          AND (queue_prefix = $1 OR queue_prefix IS NULL)
          AND ($2::uuid IS NULL OR id > $2::uuid)
          AND (status = 'queued' OR updated_at < now() - make_interval(secs => $3::float8 / 1000))
        ORDER BY id
        LIMIT $4
        FOR UPDATE SKIP LOCKED`,
      [prefix, afterId, staleMs, limit],
    );
  }

  /** Records that these tasks' jobs are in their queue. */
  async markEnqueued(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await MARK_ENQUEUED.query(this.manager, [ids]);
  }

  /** The worker's heartbeat for the tasks it is running (see `lockHandedOff`). */
  async touch(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.manager.query(
      `UPDATE tasks SET updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'running'`,
      [ids],
    );
  }

  /** Of these ids, those of tasks still queued or running. */
  async unfinishedIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: string }> = await this.manager.query(
      `SELECT id FROM tasks WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')`,
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Fails a task whatever attempt it is in (its job failed without the runner recording it). */
  async failUnfinished(id: string, error: string): Promise<boolean> {
    const result = await this.repository.update(
      { id, status: In(['queued', 'running']) },
      { status: 'failed', error, finishedAt: () => 'now()' },
    );
    return (result.affected ?? 0) > 0;
  }

  async ping(): Promise<void> {
    await this.manager.query('SELECT 1');
  }

  findById(id: string): Promise<Task | null> {
    return this.repository.findOneBy({ id });
  }

  findFile(id: string): Promise<Pick<Task, 'filePath' | 'fileContentType'> | null> {
    return this.repository.findOne({
      where: { id },
      select: { id: true, filePath: true, fileContentType: true },
    });
  }

  /** Newest first; `ownerId` undefined lists everyone's tasks (admins). */
  page(ownerId: string | undefined, limit: number, after?: KeysetPosition): Promise<Task[]> {
    const query = this.repository.createQueryBuilder('task');
    if (ownerId !== undefined) query.andWhere('task.ownerId = :ownerId', { ownerId });
    if (after) query.andWhere('(task.createdAt, task.id) < (:createdAt, :id)', after);
    return query
      .orderBy('task.createdAt', 'DESC')
      .addOrderBy('task.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  /**
   * How each of these tasks stands before a run (see `RunStanding`), in one read. A cancel
   * holds its task's lock (`cancelIfQueued`) until it commits or rolls back; this read tries
   * the same lock, shared, and lets it go at once: it writes nothing.
   */
  async standings(ids: readonly string[]): Promise<Map<string, RunStanding>> {
    const rows: Array<{ id: string; unfinished: boolean; uncontended: boolean }> =
      await STANDINGS.query(this.manager, [ids, CANCEL_LOCK]);
    const standings = new Map<string, RunStanding>(ids.map((id) => [id, 'ended']));
    for (const row of rows) {
      if (row.unfinished) standings.set(row.id, row.uncontended ? 'free' : 'contended');
    }
    return standings;
  }

  // The grouped writes below pass one array per column and pick each row's value by the
  // position of its id (`array_position`): a plain UPDATE ... WHERE id = ANY(...) on the primary
  // key. Joining a recordset instead cost PostgreSQL ~20 % more per statement (pgbench).
  //
  // Each one records its run (attempt, start) too: a quick run is never claimed (TaskRunner),
  // so its outcome takes the task from queued to its end in one write.

  /**
   * Claims these tasks for a run (queued or running → running, as the given attempt), all in
   * one statement; answers the ids claimed. A cancelled or finished task is not claimed.
   */
  async markRunning(runs: readonly TaskRun[]): Promise<Set<string>> {
    const [rows]: [Array<{ id: string }>, number] = await MARK_RUNNING.query(
      this.manager,
      runParameters(runs),
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Records these runs' tasks (queued or running) as succeeded, all in one statement. */
  async markSucceeded(outcomes: readonly TaskSuccess[]): Promise<void> {
    await MARK_SUCCEEDED.query(this.manager, [
      ...runParameters(outcomes),
      outcomes.map(({ result }) => (result == null ? null : JSON.stringify(result))),
      outcomes.map(({ file }) => file?.path ?? null),
      outcomes.map(({ file }) => file?.contentType ?? null),
    ]);
  }

  /**
   * Records failed runs of these tasks (queued or running), all in one statement: `final` ends
   * a task; otherwise it waits (queued) for its next attempt.
   */
  async markFailed(outcomes: readonly TaskFailure[]): Promise<void> {
    await MARK_FAILED.query(this.manager, [
      ...runParameters(outcomes),
      outcomes.map(({ error }) => error),
      outcomes.map(({ final }) => final),
    ]);
  }

  async failQueued(id: string, error: string): Promise<void> {
    await this.repository.update(
      { id, status: 'queued' },
      { status: 'failed', error, finishedAt: () => 'now()' },
    );
  }

  /**
   * Cancels a queued task. Call it inside a transaction: the task's cancel lock is held until
   * that ends, so a worker starting its job meanwhile waits for the outcome (`standings`).
   */
  async cancelIfQueued(id: string): Promise<boolean> {
    await this.manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2::text))', [
      CANCEL_LOCK,
      id,
    ]);
    const result = await this.repository.update(
      { id, status: 'queued' },
      { status: 'cancelled', finishedAt: () => 'now()' },
    );
    return (result.affected ?? 0) > 0;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.repository.update(
      { id },
      { progress: Math.max(0, Math.min(100, Math.round(progress))) },
    );
  }

  async getCheckpoint<T>(id: string): Promise<T | null> {
    const row = await this.repository.findOne({
      where: { id },
      select: { id: true, checkpoint: true },
    });
    return (row?.checkpoint as T | undefined) ?? null;
  }

  /** Call inside the transaction that did the work, so progress and work commit together. */
  async saveCheckpoint(id: string, checkpoint: object, progress: number): Promise<void> {
    await this.repository.update(
      { id },
      {
        checkpoint: checkpoint,
        progress: Math.round(progress),
      },
    );
  }
}

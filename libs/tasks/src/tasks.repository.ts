import { Injectable } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
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

/** A run to claim: the task, and the attempt it runs as. */
export interface TaskRun {
  id: string;
  attempt: number;
}

export interface TaskSuccess {
  id: string;
  result: object;
  file?: { path: string; contentType: string };
}

/** `final` ends the task; otherwise it waits (queued) for its next attempt. */
export interface TaskFailure {
  id: string;
  error: string;
  final: boolean;
}

const OUTBOX_COLUMNS = 'id, type, queue, status, attempts, payload';

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
    await this.manager.query(
      `UPDATE tasks SET enqueued_at = now() WHERE id = ANY($1::uuid[]) AND enqueued_at IS NULL`,
      [ids],
    );
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

  // The grouped writes below pass one array per column and pick each row's value by the
  // position of its id (`array_position`): a plain UPDATE ... WHERE id = ANY(...) on the primary
  // key. Joining a recordset instead cost PostgreSQL ~20 % more per statement (pgbench).

  /**
   * Claims these tasks for a run (queued or running → running, as the given attempt), all in
   * one statement; answers the ids claimed. A cancelled or finished task is not claimed.
   */
  async markRunning(runs: readonly TaskRun[]): Promise<Set<string>> {
    const [rows]: [Array<{ id: string }>, number] = await this.manager.query(
      `UPDATE tasks t
          SET status = 'running', updated_at = now(),
              attempts = ($2::int[])[array_position($1::uuid[], t.id)],
              started_at = coalesce(t.started_at, now()),
              -- A job is running, so it reached its queue (whoever handed it off).
              enqueued_at = coalesce(t.enqueued_at, now())
        WHERE t.id = ANY($1::uuid[]) AND t.status IN ('queued', 'running')
        RETURNING t.id`,
      [runs.map((run) => run.id), runs.map((run) => run.attempt)],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Records these running tasks as succeeded, all in one statement. */
  async markSucceeded(outcomes: readonly TaskSuccess[]): Promise<void> {
    await this.manager.query(
      `UPDATE tasks t
          SET status = 'succeeded', progress = 100, error = NULL,
              result = ($2::jsonb[])[array_position($1::uuid[], t.id)],
              file_path = ($3::text[])[array_position($1::uuid[], t.id)],
              file_content_type = ($4::text[])[array_position($1::uuid[], t.id)],
              finished_at = now(), updated_at = now()
        WHERE t.id = ANY($1::uuid[]) AND t.status = 'running'`,
      [
        outcomes.map(({ id }) => id),
        outcomes.map(({ result }) => (result == null ? null : JSON.stringify(result))),
        outcomes.map(({ file }) => file?.path ?? null),
        outcomes.map(({ file }) => file?.contentType ?? null),
      ],
    );
  }

  /**
   * Records failed runs of these running tasks, all in one statement: `final` ends a task;
   * otherwise it waits (queued) for its next attempt.
   */
  async markFailed(outcomes: readonly TaskFailure[]): Promise<void> {
    await this.manager.query(
      `UPDATE tasks t
          SET status = CASE WHEN ($3::boolean[])[array_position($1::uuid[], t.id)]
                            THEN 'failed' ELSE 'queued' END,
              error = ($2::text[])[array_position($1::uuid[], t.id)],
              finished_at = CASE WHEN ($3::boolean[])[array_position($1::uuid[], t.id)]
                                 THEN now() ELSE t.finished_at END,
              updated_at = now()
        WHERE t.id = ANY($1::uuid[]) AND t.status = 'running'`,
      [
        outcomes.map(({ id }) => id),
        outcomes.map(({ error }) => error),
        outcomes.map(({ final }) => final),
      ],
    );
  }

  async failQueued(id: string, error: string): Promise<void> {
    await this.repository.update(
      { id, status: 'queued' },
      { status: 'failed', error, finishedAt: () => 'now()' },
    );
  }

  async cancelIfQueued(id: string): Promise<boolean> {
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

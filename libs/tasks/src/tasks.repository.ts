import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
import type { KeysetPosition } from '@girder/http';
import { In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Task } from './task.entity';

export type NewTask = Pick<Task, 'type' | 'queue' | 'payload' | 'ownerId'> & { id?: string };

@Injectable()
export class TasksRepository extends TransactionalRepository<Task> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Task);
  }

  async insert(task: NewTask): Promise<Task> {
    const result = await this.repository.insert(task as QueryDeepPartialEntity<Task>);
    return (await this.findById(result.identifiers[0].id as string))!;
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

  /** Claims the task for a run; false when it was cancelled or already finished (a stalled re-run). */
  async markRunning(id: string, attempt: number): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .update()
      .set({ status: 'running', attempts: attempt, startedAt: () => 'coalesce(started_at, now())' })
      .where({ id, status: In(['queued', 'running']) })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async markSucceeded(
    id: string,
    result: object,
    file?: { path: string; contentType: string },
  ): Promise<void> {
    await this.repository.update(
      { id, status: 'running' },
      {
        status: 'succeeded',
        progress: 100,
        result: result,
        error: null,
        filePath: file?.path ?? null,
        fileContentType: file?.contentType ?? null,
        finishedAt: () => 'now()',
      },
    );
  }

  /** A failed run: `final` ends the task; otherwise it waits (queued) for its next attempt. */
  async markFailed(id: string, error: string, final: boolean): Promise<void> {
    await this.repository.update(
      { id, status: 'running' },
      final ? { status: 'failed', error, finishedAt: () => 'now()' } : { status: 'queued', error },
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

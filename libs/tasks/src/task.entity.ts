import { BaseEntity } from '@girder/database';
import { Check, Column, Entity, Index } from 'typeorm';

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINISHED_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

/** The durable record of one background job; its id is the BullMQ job id. */
@Entity('tasks')
@Index('ix_tasks_owner_created', ['ownerId', 'createdAt', 'id'])
@Index('ix_tasks_created', ['createdAt', 'id'])
@Index('ix_tasks_outbox', ['createdAt'], { where: `"status" = 'queued' AND "enqueued_at" IS NULL` })
@Index('ix_tasks_unfinished', ['id'], { where: `"status" IN ('queued', 'running')` })
@Check('ck_tasks_status', `"status" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')`)
@Check('ck_tasks_progress', `"progress" BETWEEN 0 AND 100`)
export class Task extends BaseEntity {
  @Column({ type: 'varchar', length: 100 })
  type!: string;

  @Column({ type: 'varchar', length: 50 })
  queue!: string;

  @Column({ type: 'varchar', length: 16, default: 'queued' })
  status!: TaskStatus;

  @Column({ type: 'smallint', default: 0 })
  progress!: number;

  /** What the API shows: secrets (passwords in an import) are replaced by a summary. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  payload!: Record<string, unknown>;

  @Column({ type: 'jsonb', nullable: true })
  result!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  /** Null for system tasks (schedules, events). */
  @Column({ type: 'uuid', nullable: true })
  ownerId!: string | null;

  /** Where a long task resumes after a crash; written in the same transaction as its work. */
  @Column({ type: 'jsonb', nullable: true, select: false })
  checkpoint!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true, select: false })
  filePath!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  fileContentType!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  finishedAt!: Date | null;

  /**
   * When the job reached its queue. Null: the task is still in the outbox (committed, not yet
   * handed to BullMQ), and the worker's sweep hands it off.
   */
  @Column({ type: 'timestamptz', precision: 3, nullable: true, select: false })
  enqueuedAt?: Date | null;

  /**
   * REDIS_KEY_PREFIX of the deployment whose queues carry the job: workers sweep and reconcile
   * only their own (several deployments, or e2e suites, may share one database).
   */
  @Column({ type: 'varchar', length: 64, nullable: true, select: false })
  queuePrefix?: string | null;
}

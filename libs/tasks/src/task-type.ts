import { SetMetadata, type Type } from '@nestjs/common';
import type { AppConfig } from '@girder/config';
import type { PermissionClass } from '@girder/permissions';
import type { TaskQueueName } from './task-queues';

export const TASK_TYPE_KEY = 'girder:task-type';

export interface TaskTypeOptions {
  /** `<area>.<action>`, e.g. `users.import`: what clients send as `type`. */
  name: string;
  queue: TaskQueueName;
  /**
   * Runs the type on a schedule (BullMQ job scheduler, one per id however many workers):
   * `cron` is read from the configuration when the worker starts; the run's payload comes from
   * the handler's `scheduledPayload()`.
   */
  schedule?: { id: string; cron: (config: AppConfig) => string };
  /** class-validator DTO of the payload (with @ApiProperty fields: it is documented). */
  payload: Type<object>;
  /** A class describing the result, for the OpenAPI document (optional). */
  result?: Type<object>;
  /** Who may submit it over HTTP; `null` = system only (submitting it is a 400). */
  permission: PermissionClass | null;
  /** Total attempts, with exponential backoff between them. Default 3. */
  attempts?: number;
  /** First backoff delay in ms (doubles each retry). Default 1000. */
  backoffMs?: number;
  /** A run taking longer fails (and may retry). Default 10 minutes. */
  timeoutMs?: number;
  /**
   * The payload carries secrets (passwords, tokens): it is kept out of queue data (a file under
   * STORAGE_DIR until the task ends, see TaskPayloadVault) and `describePayload` decides what
   * the task record shows. Mark its secret fields `@Secret()` so request logs redact them too.
   */
  secretPayload?: boolean;
}

export interface TaskContext {
  taskId: string;
  /** 1 for the first run. */
  attempt: number;
  /** Aborted when the task times out or the worker shuts down. */
  signal: AbortSignal;
  reportProgress(percent: number): Promise<void>;
  /** What the last `saveCheckpoint` of an earlier attempt stored, or null on a first run. */
  loadCheckpoint<T extends object>(): Promise<T | null>;
  /**
   * Stores how far the task got (and its progress). Call it inside the transaction that
   * commits the work it describes: after a crash the next attempt resumes exactly there.
   */
  saveCheckpoint(checkpoint: object, progress: number): Promise<void>;
}

/**
 * A task type: one class with the `@TaskType` declaration and its handler. Register it as a
 * provider of a module imported by both apps (the API validates submissions, the worker runs it).
 */
export abstract class TaskHandler<Payload extends object = object, Result extends object = object> {
  abstract run(payload: Payload, context: TaskContext): Promise<Result>;

  /** Checks that need more than the DTO (e.g. from <= to). Return a message to answer 400. */
  check?(payload: Payload): string | undefined;

  /** What the tasks table and API show of the payload (hide secrets here). Default: all of it. */
  describePayload?(payload: Payload): Record<string, unknown>;

  /** The payload of runs started by a job scheduler (e.g. yesterday's report). */
  scheduledPayload?(): Payload;

  /** The file a finished task produced, if any, for `GET /tasks/:id/download`. */
  file?(result: Result): { path: string; contentType: string } | undefined;
}

/** Every @TaskType declared in this process, for the OpenAPI document (see task-openapi.ts). */
export const DECLARED_TASK_TYPES = new Set<TaskTypeOptions>();

export const TaskType =
  (options: TaskTypeOptions): ClassDecorator =>
  (target) => {
    DECLARED_TASK_TYPES.add(options);
    SetMetadata(TASK_TYPE_KEY, options)(target);
  };

import { Injectable, Logger } from '@nestjs/common';
import {
  ProblemException,
  ValidationFailedException,
  flattenValidationErrors,
} from '@girder/errors';
import { decodeCursor, toPage, type Page } from '@girder/http';
import { IsAdmin, PermissionChecker, type CurrentUser } from '@girder/permissions';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { TaskDto, type ListTasksQuery } from './dto/task.dto';
import { TaskOutbox } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import type { TaskQueueName } from './task-queues';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';
import { TaskWaiter } from './task-waiter';
import type { Task } from './task.entity';
import { TasksRepository } from './tasks.repository';

/** Submitting, reading, waiting for and cancelling tasks (the API side). */
@Injectable()
export class TasksService {
  private readonly logger = new Logger('TasksService');

  constructor(
    private readonly tasks: TasksRepository,
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
    private readonly waiter: TaskWaiter,
    private readonly permissions: PermissionChecker,
    private readonly vault: TaskPayloadVault,
    private readonly outbox: TaskOutbox,
  ) {}

  /** An HTTP submission: the type must exist, be submittable, allow the caller, and its payload must validate. */
  async submit(
    type: string,
    payload: Record<string, unknown>,
    user: CurrentUser,
  ): Promise<TaskDto> {
    const registered = this.registry.get(type);
    if (!registered) {
      throw new ValidationFailedException([
        { field: 'type', message: `type must be one of: ${this.submittableTypes().join(', ')}` },
      ]);
    }
    if (!registered.options.permission) {
      throw new ValidationFailedException([
        { field: 'type', message: `${type} is started by the system and cannot be submitted` },
      ]);
    }
    if (!(await this.permissions.allows([registered.options.permission], user))) {
      throw new ProblemException('FORBIDDEN', `You are not allowed to submit ${type} tasks.`);
    }
    const validPayload = await this.validatePayload(registered, payload);
    return TaskDto.from(await this.enqueue(registered, validPayload, user.id));
  }

  /**
   * Queues a task on behalf of the system (events, other services). No permission check.
   * Inside a `@Transactional()` method the task row is part of the caller's transaction and its
   * job is added only once that commits; a rollback leaves neither.
   */
  async submitAsSystem(type: string, payload: object): Promise<TaskDto> {
    const registered = this.registry.get(type);
    if (!registered) throw new Error(`Unknown task type ${type}`);
    return TaskDto.from(
      await this.enqueue(
        registered,
        await this.validatePayload(registered, payload as Record<string, unknown>),
        null,
      ),
    );
  }

  async get(id: string, user: CurrentUser, waitMs = 0): Promise<TaskDto> {
    const task = await this.findVisible(id, user);
    return TaskDto.from(await this.waiter.waitForFinish(task, waitMs));
  }

  async list(user: CurrentUser, query: ListTasksQuery): Promise<Page<TaskDto>> {
    if (query.all && !(await this.permissions.allows([IsAdmin], user)))
      throw new ProblemException('FORBIDDEN', "Only admins may list everyone's tasks.");
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.tasks.page(query.all ? undefined : user.id, query.limit, after);
    return toPage(rows, query.limit, (task) => TaskDto.from(task));
  }

  /**
   * Only a queued task can be cancelled; a running or finished one is a 409. A quick run
   * records no `running` state (TaskRunner), so the queue is asked too, while the cancel holds
   * the task's row: its job is removed unless a worker holds it, and a job a worker holds is
   * running. A worker that starts the job meanwhile finds the row held and waits for the answer.
   */
  async cancel(id: string, user: CurrentUser): Promise<TaskDto> {
    const task = await this.findVisible(id, user);
    const conflict = (status: string) =>
      new ProblemException(
        'CONFLICT',
        `The task is ${status}: only queued tasks can be cancelled.`,
      );
    await this.tasks.inOwnTransaction(async () => {
      if (!(await this.tasks.cancelIfQueued(id))) {
        // It left `queued` since it was read: say what it is now.
        throw conflict((await this.tasks.findById(id))?.status ?? task.status);
      }
      if (await this.isActiveInQueue(task.queue, id)) throw conflict('running');
    });
    await this.vault.remove(id);
    return TaskDto.from((await this.tasks.findById(id))!);
  }

  /**
   * Removes the task's job unless a worker holds it; answers whether one does. With the
   * queue's store unreachable nothing is asked (no worker takes a job then either; the job,
   * if it reaches a worker later, finds its task cancelled and is skipped).
   */
  private async isActiveInQueue(name: TaskQueueName, id: string): Promise<boolean> {
    if (!(await this.queues.isConnected(name))) return false;
    const queue = this.queues.get(name);
    try {
      if ((await queue.remove(id)) === 1) return false;
      return (await queue.getJobState(id)) === 'active';
    } catch (error) {
      this.logger.warn(`Could not remove job ${id}: ${(error as Error).message}`);
      return false;
    }
  }

  async file(
    id: string,
    user: CurrentUser,
  ): Promise<{ path: string; contentType: string; name: string }> {
    const task = await this.findVisible(id, user);
    if (task.status !== 'succeeded')
      throw new ProblemException('CONFLICT', `The task is ${task.status}: no file yet.`);
    const file = await this.tasks.findFile(id);
    if (!file?.filePath) throw new ProblemException('NOT_FOUND', 'This task produced no file.');
    return {
      path: file.filePath,
      contentType: file.fileContentType ?? 'application/octet-stream',
      name: file.filePath.split('/').pop()!,
    };
  }

  submittableTypes(): string[] {
    return this.registry.names().filter((name) => this.registry.get(name)?.options.permission);
  }

  /** Other users' tasks are invisible (404), not forbidden: their existence is not disclosed. */
  private async findVisible(id: string, user: CurrentUser): Promise<Task> {
    const task = await this.tasks.findById(id);
    const visible =
      task !== null &&
      (task.ownerId === user.id || (await this.permissions.allows([IsAdmin], user)));
    if (!visible) throw new ProblemException('NOT_FOUND', 'No task with this id.');
    return task;
  }

  private async validatePayload(
    registered: RegisteredTaskType,
    payload: Record<string, unknown>,
  ): Promise<object> {
    const instance = plainToInstance(registered.options.payload, payload);
    const errors = await validate(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: false,
    });
    if (errors.length > 0)
      throw new ValidationFailedException(flattenValidationErrors(errors, 'payload'));
    const problem = registered.handler.check?.(instance);
    if (problem) throw new ValidationFailedException([{ field: 'payload', message: problem }]);
    return instance;
  }

  /** Records the task and hands it to its queue after commit (see TaskOutbox). */
  private enqueue(
    registered: RegisteredTaskType,
    payload: object,
    ownerId: string | null,
  ): Promise<Task> {
    return this.outbox.submit(registered, payload, ownerId);
  }
}

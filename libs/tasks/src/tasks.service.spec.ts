import { PermissionChecker, type CurrentUser, type Permission } from '@girder/permissions';
import type { Queue } from 'bullmq';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Min, ValidateNested } from 'class-validator';
import { newTestService, problemOf } from '../../../test/unit/new-test-service';
import { TaskOutbox } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';
import type { TaskHandler } from './task-type';
import type { Task } from './task.entity';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

class Range {
  @IsInt()
  @Min(1)
  from!: number;
}

class ExportPayload {
  @IsIn(['csv', 'json'])
  format!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => Range)
  range?: Range;
}

/** The permission class a submittable type names; the (real) PermissionChecker resolves it through DI. */
class MaySubmitExports implements Permission {
  hasPermission = jest.fn<Promise<boolean>, [CurrentUser | null]>();
}

const alice: CurrentUser = {
  id: 'alice-id',
  role: 'user',
  sessionId: 'alice-session',
  emailVerified: true,
};
const bob: CurrentUser = {
  id: 'bob-id',
  role: 'user',
  sessionId: 'bob-session',
  emailVerified: true,
};
const admin: CurrentUser = {
  id: 'admin-id',
  role: 'admin',
  sessionId: 'admin-session',
  emailVerified: true,
};

function taskType(
  name: string,
  options: Partial<RegisteredTaskType['options']> = {},
  handler: Partial<TaskHandler> = {},
): RegisteredTaskType {
  return {
    options: {
      name,
      queue: 'reports',
      payload: ExportPayload,
      permission: MaySubmitExports,
      attempts: 4,
      backoffMs: 2_000,
      timeoutMs: 60_000,
      secretPayload: false,
      ...options,
    },
    handler: { run: jest.fn(), ...handler },
  };
}

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: 'task-1',
    type: 'reports.export',
    queue: 'reports',
    status: 'queued',
    progress: 0,
    payload: {},
    result: null,
    error: null,
    attempts: 0,
    ownerId: alice.id,
    checkpoint: null,
    filePath: null,
    fileContentType: null,
    createdAt: new Date('2024-05-01T10:00:00.000Z'),
    updatedAt: new Date('2024-05-01T10:00:00.000Z'),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

describe('TasksService', () => {
  let service: TasksService;
  let tasks: jest.Mocked<TasksRepository>;
  let registry: jest.Mocked<TaskRegistry>;
  let vault: jest.Mocked<TaskPayloadVault>;
  let outbox: jest.Mocked<TaskOutbox>;
  let queues: jest.Mocked<TaskQueues>;
  let permission: MaySubmitExports;
  let queue: { remove: jest.Mock; getJobState: jest.Mock };
  /** What the cancel's own transaction ended in. */
  let transaction: 'committed' | 'rolled back' | undefined;
  let types: Map<string, RegisteredTaskType>;

  beforeEach(async () => {
    permission = new MaySubmitExports();
    const built = await newTestService(TasksService, [
      { provide: MaySubmitExports, useValue: permission },
      { provide: PermissionChecker, useClass: PermissionChecker },
    ]);
    service = built.sut;
    tasks = built.mock(TasksRepository);
    registry = built.mock(TaskRegistry);
    vault = built.mock(TaskPayloadVault);
    outbox = built.mock(TaskOutbox);
    queue = {
      remove: jest.fn().mockResolvedValue(1),
      getJobState: jest.fn().mockResolvedValue('unknown'),
    };
    transaction = undefined;
    tasks.inOwnTransaction.mockImplementation(async (work) => {
      try {
        const result = await work();
        transaction = 'committed';
        return result;
      } catch (error) {
        transaction = 'rolled back';
        throw error;
      }
    });
    queues = built.mock(TaskQueues);
    queues.get.mockReturnValue(queue as unknown as Queue);
    queues.isConnected.mockResolvedValue(true);

    types = new Map([
      ['reports.export', taskType('reports.export')],
      ['email.welcome', taskType('email.welcome', { queue: 'email', permission: null })],
      ['users.import', taskType('users.import', { queue: 'users' })],
    ]);
    registry.get.mockImplementation((name) => types.get(name));
    registry.names.mockImplementation(() => [...types.keys()].sort());
    permission.hasPermission.mockResolvedValue(true);
    outbox.submit.mockImplementation(async (registered, _payload, ownerId) =>
      task({ type: registered.options.name, queue: registered.options.queue, ownerId }),
    );
    vault.remove.mockResolvedValue();
  });

  afterEach(() => jest.restoreAllMocks());

  describe('submit', () => {
    const submit = (type: string, payload: Record<string, unknown>, user = alice) =>
      service.submit(type, payload, user);

    it('answers 400 listing the submittable types for an unknown type', async () => {
      expect(await problemOf(submit('nope', {}))).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        errors: [{ field: 'type', message: 'type must be one of: reports.export, users.import' }],
      });
      expect(outbox.submit).not.toHaveBeenCalled();
    });

    it('answers 400 for a type only the system may start', async () => {
      expect(await problemOf(submit('email.welcome', {}))).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        errors: [
          {
            field: 'type',
            message: 'email.welcome is started by the system and cannot be submitted',
          },
        ],
      });
      expect(permission.hasPermission).not.toHaveBeenCalled();
      expect(outbox.submit).not.toHaveBeenCalled();
    });

    it('answers 403 when the type’s permission refuses the caller', async () => {
      permission.hasPermission.mockResolvedValue(false);

      expect(await problemOf(submit('reports.export', { format: 'csv' }))).toMatchObject({
        code: 'FORBIDDEN',
        status: 403,
      });
      expect(permission.hasPermission).toHaveBeenCalledWith(alice, undefined);
      expect(outbox.submit).not.toHaveBeenCalled();
    });

    it('answers 400 with payload.<field> errors for an invalid payload', async () => {
      const problem = await problemOf(
        submit('reports.export', { format: 'xml', range: { from: 0 }, extra: true }),
      );

      expect(problem).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
      expect(problem.errors?.map((error) => error.field).sort()).toEqual([
        'payload.extra',
        'payload.format',
        'payload.range.from',
      ]);
      expect(outbox.submit).not.toHaveBeenCalled();
    });

    it('answers 400 with the message of the handler’s own check', async () => {
      const check = jest.fn().mockReturnValue('from must not be after to');
      types.set('reports.export', taskType('reports.export', {}, { check }));

      expect(await problemOf(submit('reports.export', { format: 'csv' }))).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        errors: [{ field: 'payload', message: 'from must not be after to' }],
      });
      expect(check).toHaveBeenCalledWith(expect.any(ExportPayload));
      expect(outbox.submit).not.toHaveBeenCalled();
    });

    it('hands the validated payload to the outbox, owned by the caller', async () => {
      const submitted = await submit('reports.export', { format: 'csv', range: { from: 2 } });

      expect(outbox.submit).toHaveBeenCalledWith(
        types.get('reports.export'),
        expect.any(ExportPayload),
        alice.id,
      );
      const [, payload] = outbox.submit.mock.calls[0];
      expect(payload).toMatchObject({ format: 'csv', range: { from: 2 } });
      expect((payload as ExportPayload).range).toBeInstanceOf(Range);
      expect(submitted).toMatchObject({ id: 'task-1', status: 'queued', type: 'reports.export' });
    });
  });

  describe('submitAsSystem', () => {
    it('validates the payload and submits without an owner or a permission check', async () => {
      await service.submitAsSystem('email.welcome', { format: 'json' });

      expect(permission.hasPermission).not.toHaveBeenCalled();
      expect(outbox.submit).toHaveBeenCalledWith(
        types.get('email.welcome'),
        expect.objectContaining({ format: 'json' }),
        null,
      );
    });

    it('refuses an invalid payload before recording anything', async () => {
      expect(
        await problemOf(service.submitAsSystem('email.welcome', { format: 'xml' })),
      ).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
      expect(outbox.submit).not.toHaveBeenCalled();
    });
  });

  describe('list', () => {
    it('refuses everyone’s tasks to a non-admin with 403', async () => {
      expect(await problemOf(service.list(alice, { all: true, limit: 20 }))).toMatchObject({
        code: 'FORBIDDEN',
        status: 403,
      });
      expect(tasks.page).not.toHaveBeenCalled();
    });

    it('lists the caller’s own tasks, and everyone’s for an admin asking for all', async () => {
      tasks.page.mockResolvedValue([task()]);

      const own = await service.list(alice, { limit: 20 });
      await service.list(admin, { all: true, limit: 20 });

      expect(tasks.page).toHaveBeenNthCalledWith(1, alice.id, 20, undefined);
      expect(tasks.page).toHaveBeenNthCalledWith(2, undefined, 20, undefined);
      expect(own).toEqual({ items: [expect.objectContaining({ id: 'task-1' })], nextCursor: null });
    });
  });

  describe('cancel', () => {
    it('answers 409 for a task that is no longer queued', async () => {
      tasks.findById.mockResolvedValue(task({ status: 'succeeded' }));
      tasks.cancelIfQueued.mockResolvedValue(false);

      expect(await problemOf(service.cancel('task-1', alice))).toMatchObject({
        code: 'CONFLICT',
        status: 409,
        detail: 'The task is succeeded: only queued tasks can be cancelled.',
      });
      expect(vault.remove).not.toHaveBeenCalled();
      expect(queue.remove).not.toHaveBeenCalled();
    });

    it('names the status the task has now when it finished after it was read', async () => {
      tasks.findById
        .mockResolvedValueOnce(task({ status: 'queued' }))
        .mockResolvedValueOnce(task({ status: 'succeeded' }));
      tasks.cancelIfQueued.mockResolvedValue(false);

      expect(await problemOf(service.cancel('task-1', alice))).toMatchObject({
        status: 409,
        detail: 'The task is succeeded: only queued tasks can be cancelled.',
      });
      expect(transaction).toBe('rolled back');
    });

    it('answers 404 for another user’s task, as if it did not exist', async () => {
      tasks.findById.mockResolvedValue(task({ ownerId: bob.id }));

      expect(await problemOf(service.cancel('task-1', alice))).toMatchObject({
        code: 'NOT_FOUND',
        status: 404,
      });
      expect(tasks.cancelIfQueued).not.toHaveBeenCalled();
    });

    it('answers 404 for an unknown task', async () => {
      tasks.findById.mockResolvedValue(null);

      expect(await problemOf(service.cancel('task-1', admin))).toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('lets an admin cancel another user’s task, removing its job and stored input', async () => {
      tasks.findById
        .mockResolvedValueOnce(task({ ownerId: bob.id }))
        .mockResolvedValueOnce(task({ ownerId: bob.id, status: 'cancelled' }));
      tasks.cancelIfQueued.mockResolvedValue(true);

      const cancelled = await service.cancel('task-1', admin);

      expect(tasks.cancelIfQueued).toHaveBeenCalledWith('task-1');
      expect(vault.remove).toHaveBeenCalledWith('task-1');
      expect(queue.remove).toHaveBeenCalledWith('task-1');
      expect(cancelled.status).toBe('cancelled');
    });

    it('answers 409 and rolls the cancel back when a worker holds the job (a quick run records no running state)', async () => {
      tasks.findById.mockResolvedValue(task());
      tasks.cancelIfQueued.mockResolvedValue(true);
      queue.remove.mockResolvedValue(0);
      queue.getJobState.mockResolvedValue('active');

      expect(await problemOf(service.cancel('task-1', alice))).toMatchObject({
        code: 'CONFLICT',
        status: 409,
        detail: 'The task is running: only queued tasks can be cancelled.',
      });
      expect(transaction).toBe('rolled back');
      expect(queue.getJobState).toHaveBeenCalledWith('task-1');
      expect(vault.remove).not.toHaveBeenCalled();
    });

    it('asks the queue while it holds the task row, and commits once the job is removed', async () => {
      tasks.findById.mockResolvedValue(task());
      const order: string[] = [];
      tasks.cancelIfQueued.mockImplementation(async () => !!order.push('row cancelled'));
      queue.remove.mockImplementation(async () => order.push('job removed') && 1);

      await service.cancel('task-1', alice);

      expect(order).toEqual(['row cancelled', 'job removed']);
      expect(tasks.inOwnTransaction).toHaveBeenCalledTimes(1);
      expect(transaction).toBe('committed');
      expect(queue.getJobState).not.toHaveBeenCalled();
    });

    it('cancels a task whose job is not in the queue (not handed off yet, or waiting)', async () => {
      tasks.findById.mockResolvedValue(task());
      tasks.cancelIfQueued.mockResolvedValue(true);
      queue.remove.mockResolvedValue(0);
      queue.getJobState.mockResolvedValue('unknown');

      await expect(service.cancel('task-1', alice)).resolves.toMatchObject({ id: 'task-1' });
      expect(transaction).toBe('committed');
      expect(vault.remove).toHaveBeenCalledWith('task-1');
    });

    it('cancels without waiting for the queue when its Redis is unreachable', async () => {
      tasks.findById.mockResolvedValue(task());
      tasks.cancelIfQueued.mockResolvedValue(true);
      queues.isConnected.mockResolvedValue(false);

      await expect(service.cancel('task-1', alice)).resolves.toMatchObject({ id: 'task-1' });
      expect(queue.remove).not.toHaveBeenCalled();
      expect(transaction).toBe('committed');
    });

    it('still cancels when the job cannot be removed from the queue', async () => {
      tasks.findById.mockResolvedValue(task());
      tasks.cancelIfQueued.mockResolvedValue(true);
      queue.remove.mockRejectedValue(new Error('Connection is closed.'));

      await expect(service.cancel('task-1', alice)).resolves.toMatchObject({ id: 'task-1' });
    });
  });
});

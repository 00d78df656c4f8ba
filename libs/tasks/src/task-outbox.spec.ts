import { AppConfig } from '@girder/config';
import { afterCommit } from '@girder/database';
import type { Queue } from 'bullmq';
import { newTestService } from '../../../test/unit/new-test-service';
import {
  HAND_OFF_TIMEOUT_MS,
  MARK_ENQUEUED_EVERY_MS,
  TaskOutbox,
  taskIdForJob,
} from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';
import type { TaskHandler } from './task-type';
import type { Task } from './task.entity';
import { TasksRepository, type OutboxRow } from './tasks.repository';

jest.mock('@girder/database', () => ({
  ...jest.requireActual('@girder/database'),
  afterCommit: jest.fn(),
}));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

class ReportPayload {
  from!: string;
}

function taskType(
  name: string,
  options: Partial<RegisteredTaskType['options']> = {},
  handler: Partial<TaskHandler> = {},
): RegisteredTaskType {
  return {
    options: {
      name,
      queue: 'reports',
      payload: ReportPayload,
      permission: null,
      attempts: 4,
      backoffMs: 2_000,
      timeoutMs: 60_000,
      secretPayload: false,
      ...options,
    },
    handler: { run: jest.fn(), ...handler },
  };
}

function row(overrides: Partial<OutboxRow> = {}): OutboxRow {
  return {
    id: '0b6f7e2c-3c1d-4a53-9d2e-6f1a7b8c9d0e',
    type: 'reports.daily',
    queue: 'reports',
    status: 'queued',
    attempts: 0,
    payload: { from: '2024-05-01' },
    ...overrides,
  };
}

describe('TaskOutbox', () => {
  let outbox: TaskOutbox;
  let tasks: jest.Mocked<TasksRepository>;
  let registry: jest.Mocked<TaskRegistry>;
  let queues: jest.Mocked<TaskQueues>;
  let vault: jest.Mocked<TaskPayloadVault>;
  let queue: { addBulk: jest.Mock };
  /** Every job added, across addBulk calls, as `[name, data, opts]`. */
  const added = () =>
    queue.addBulk.mock.calls.flatMap(
      ([jobs]: [Array<{ name: string; data: object; opts: object }>]) =>
        jobs.map((job) => [job.name, job.data, job.opts] as [string, object, object]),
    );
  let types: Map<string, RegisteredTaskType>;
  const hooks: Array<() => unknown> = [];

  beforeEach(async () => {
    const built = await newTestService(TaskOutbox, [
      { provide: AppConfig, useValue: { get: () => 'girder' } },
    ]);
    outbox = built.sut;
    tasks = built.mock(TasksRepository);
    registry = built.mock(TaskRegistry);
    queues = built.mock(TaskQueues);
    vault = built.mock(TaskPayloadVault);
    queue = { addBulk: jest.fn().mockResolvedValue([]) };
    queues.get.mockReturnValue(queue as unknown as Queue);
    queues.isConnected.mockResolvedValue(true);
    types = new Map([
      ['reports.daily', taskType('reports.daily')],
      ['users.import', taskType('users.import', { queue: 'users', secretPayload: true })],
    ]);
    registry.get.mockImplementation((name) => types.get(name));
    tasks.insert.mockImplementation(async (rows) =>
      rows.map((task) => ({ ...task, status: 'queued', attempts: 0 }) as unknown as Task),
    );
    tasks.markEnqueued.mockResolvedValue();
    vault.remove.mockResolvedValue();
    vault.reference.mockImplementation((id) => ({ file: `task-inputs/${id}.json` }));
    hooks.length = 0;
    jest.mocked(afterCommit).mockImplementation(async (hook) => {
      hooks.push(hook);
    });
  });

  afterEach(() => jest.useRealTimers());

  describe('submit', () => {
    it('records the task under this deployment’s prefix and hands it off only after commit', async () => {
      const task = await outbox.submit(types.get('reports.daily')!, { from: '2024-05-01' }, 'u-1');

      expect(tasks.insert).toHaveBeenCalledWith([
        {
          id: expect.stringMatching(UUID),
          type: 'reports.daily',
          queue: 'reports',
          payload: { from: '2024-05-01' },
          ownerId: 'u-1',
          queuePrefix: 'girder',
        },
      ]);
      expect(queue.addBulk).not.toHaveBeenCalled();
      expect(hooks).toHaveLength(1);

      await hooks[0]();

      expect(added()).toContainEqual([
        'reports.daily',
        { taskId: task.id, payload: { from: '2024-05-01' } },
        expect.objectContaining({
          jobId: task.id,
          attempts: 4,
          backoff: { type: 'exponential', delay: 2_000 },
          removeOnComplete: true,
        }),
      ]);
      // Recorded a moment later, batched with other submissions.
      expect(tasks.markEnqueued).not.toHaveBeenCalled();
      await outbox.onApplicationShutdown();
      expect(tasks.markEnqueued).toHaveBeenCalledWith([task.id]);
    });

    it('records the hand-offs of submissions close together in one update', async () => {
      // Submissions are grouped on the next tick (DataLoader): only the marking timer is faked.
      jest.useFakeTimers({ doNotFake: ['nextTick'] });
      const first = await outbox.submit(types.get('reports.daily')!, { from: 'a' }, null);
      const second = await outbox.submit(types.get('reports.daily')!, { from: 'b' }, null);
      await Promise.all(hooks.map((hook) => hook()));

      await jest.advanceTimersByTimeAsync(MARK_ENQUEUED_EVERY_MS);

      expect(tasks.markEnqueued).toHaveBeenCalledTimes(1);
      expect(tasks.markEnqueued).toHaveBeenCalledWith([first.id, second.id]);
    });

    it('stores a secret payload before the row commits; the record and the job never hold it', async () => {
      const describePayload = jest.fn().mockReturnValue({ rows: 1 });
      types.set(
        'users.import',
        taskType('users.import', { queue: 'users', secretPayload: true }, { describePayload }),
      );
      const order: string[] = [];
      vault.store.mockImplementation(async (id) => {
        order.push('store');
        return { file: `task-inputs/${id}.json` };
      });
      tasks.insert.mockImplementation(async (rows) => {
        order.push('insert');
        return rows.map((task) => ({ ...task, status: 'queued', attempts: 0 }) as unknown as Task);
      });

      const task = await outbox.submit(types.get('users.import')!, { csv: 'secret' }, null);
      await hooks[0]();

      expect(order).toEqual(['store', 'insert']);
      expect(vault.store).toHaveBeenCalledWith(task.id, { csv: 'secret' });
      expect(tasks.insert).toHaveBeenCalledWith([
        expect.objectContaining({ payload: { rows: 1 } }),
      ]);
      const [, data] = added()[0];
      expect(data).toEqual({
        taskId: task.id,
        payloadRef: { file: `task-inputs/${task.id}.json` },
      });
    });

    it('keeps in the vault the payload of a type whose record shows only a description', async () => {
      types.set(
        'reports.daily',
        taskType('reports.daily', {}, { describePayload: () => ({ summary: true }) }),
      );

      const task = await outbox.submit(types.get('reports.daily')!, { from: 'x' }, null);

      expect(vault.store).toHaveBeenCalledWith(task.id, { from: 'x' });
    });

    it('removes the stored payload when the row cannot be written', async () => {
      tasks.insert.mockRejectedValue(new Error('duplicate key'));

      await expect(
        outbox.submit(types.get('users.import')!, { csv: 'secret' }, null),
      ).rejects.toThrow('duplicate key');

      expect(vault.remove).toHaveBeenCalledWith(vault.store.mock.calls[0][0]);
      expect(hooks).toHaveLength(0);
    });

    it('records submissions made together in one INSERT and hands them off in one addBulk per queue', async () => {
      const submitted = await Promise.all([
        outbox.submit(types.get('reports.daily')!, { from: 'a' }, null),
        outbox.submit(types.get('reports.daily')!, { from: 'b' }, null),
        outbox.submit(types.get('users.import')!, { csv: 'c' }, null),
      ]);
      await Promise.all(hooks.map((hook) => hook()));

      expect(tasks.insert).toHaveBeenCalledTimes(1);
      expect(tasks.insert.mock.calls[0][0].map((task) => task.id)).toEqual(
        submitted.map((task) => task.id),
      );
      expect(queue.addBulk).toHaveBeenCalledTimes(2);
      expect(queues.get.mock.calls.map(([name]) => name).sort()).toEqual(['reports', 'users']);
      expect(
        added()
          .map(([, data]) => (data as { taskId: string }).taskId)
          .sort(),
      ).toEqual(submitted.map((task) => task.id).sort());
    });

    it('inside a transaction, records the task at once in the caller’s transaction', async () => {
      Object.defineProperty(tasks, 'inTransaction', { get: () => true });

      const [first, second] = await Promise.all([
        outbox.submit(types.get('reports.daily')!, { from: 'a' }, null),
        outbox.submit(types.get('reports.daily')!, { from: 'b' }, null),
      ]);

      expect(tasks.insert.mock.calls).toEqual([
        [[expect.objectContaining({ id: first.id })]],
        [[expect.objectContaining({ id: second.id })]],
      ]);
    });

    it('fails only the submission the database refuses when several are recorded together', async () => {
      tasks.insert.mockImplementation(async (rows) => {
        if (rows.some((task) => (task.payload as { from: string }).from === 'bad'))
          throw new Error('value too long for type character varying(100)');
        return rows.map((task) => ({ ...task, status: 'queued', attempts: 0 }) as unknown as Task);
      });

      const [good, bad] = await Promise.allSettled([
        outbox.submit(types.get('reports.daily')!, { from: 'good' }, null),
        outbox.submit(types.get('reports.daily')!, { from: 'bad' }, null),
      ]);

      expect(good.status).toBe('fulfilled');
      expect(bad).toMatchObject({
        status: 'rejected',
        reason: { message: expect.stringMatching(/too long/) },
      });
      expect(tasks.insert).toHaveBeenCalledTimes(3); // together, then each alone
    });

    it('fails all submissions made together, without retrying each, while the database is unreachable', async () => {
      tasks.insert.mockRejectedValue(new Error('Connection terminated unexpectedly'));

      const outcomes = await Promise.allSettled([
        outbox.submit(types.get('reports.daily')!, { from: 'a' }, null),
        outbox.submit(types.get('reports.daily')!, { from: 'b' }, null),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
      expect(tasks.insert).toHaveBeenCalledTimes(1);
    });
  });

  describe('handOff', () => {
    it('builds a job from the record alone and records which tasks reached their queue', async () => {
      const secret = row({ id: 'b', type: 'users.import', queue: 'users', payload: { rows: 3 } });

      expect(await outbox.handOff([row({ id: 'a' }), secret])).toEqual(['a', 'b']);

      expect(added()).toEqual([
        [
          'reports.daily',
          { taskId: 'a', payload: { from: '2024-05-01' } },
          expect.objectContaining({ jobId: 'a' }),
        ],
        [
          'users.import',
          { taskId: 'b', payloadRef: { file: 'task-inputs/b.json' } },
          expect.objectContaining({ jobId: 'b' }),
        ],
      ]);
      expect(tasks.markEnqueued).toHaveBeenCalledWith(['a', 'b']);
    });

    it.each([
      ['a queued task after 2 failed attempts', 'queued', 2, 2, 2],
      ['a running task in its 3rd attempt (that attempt runs again)', 'running', 3, 2, 2],
      ['a running task in its 1st attempt', 'running', 1, undefined, 4],
    ] as const)(
      'carries the attempts already used by %s',
      async (_case, status, attempts, attemptsBefore, jobAttempts) => {
        await outbox.handOff([row({ status, attempts })]);

        const [, data, options] = added()[0];
        expect(data).toEqual(
          attemptsBefore === undefined
            ? { taskId: row().id, payload: row().payload }
            : { taskId: row().id, payload: row().payload, attemptsBefore },
        );
        expect(options).toMatchObject({ attempts: jobAttempts });
      },
    );

    it('leaves the tasks in the outbox, without waiting or throwing, while the queue is unreachable', async () => {
      queues.isConnected.mockResolvedValue(false);

      expect(await outbox.handOff([row()])).toEqual([]);

      expect(queue.addBulk).not.toHaveBeenCalled();
      expect(tasks.markEnqueued).toHaveBeenCalledWith([]);
    });

    it('gives up on an add that does not answer in time', async () => {
      jest.useFakeTimers();
      queue.addBulk.mockReturnValue(new Promise(() => undefined));

      const handOff = outbox.handOff([row()]);
      await jest.advanceTimersByTimeAsync(HAND_OFF_TIMEOUT_MS);

      expect(await handOff).toEqual([]);
    });

    it('still answers the added tasks when recording the hand-off fails', async () => {
      tasks.markEnqueued.mockRejectedValue(new Error('Connection terminated'));

      expect(await outbox.handOff([row()])).toEqual([row().id]);
    });

    it('skips tasks of a type this process does not know', async () => {
      expect(await outbox.handOff([row({ type: 'gone.type' })])).toEqual([]);
      expect(queue.addBulk).not.toHaveBeenCalled();
    });
  });

  describe('submitScheduled', () => {
    const scheduled = taskType(
      'reports.daily',
      {},
      { scheduledPayload: () => ({ from: '2024-05-01' }) },
    );

    it('records a run once, under an id derived from the job id, and hands it off', async () => {
      const id = taskIdForJob('repeat:daily:1');
      tasks.exists.mockResolvedValue(false);
      tasks.findUnfinished.mockResolvedValue(row({ id }));

      expect(await outbox.submitScheduled(scheduled, 'repeat:daily:1')).toBe(id);

      expect(tasks.insertIfAbsent).toHaveBeenCalledWith({
        id,
        type: 'reports.daily',
        queue: 'reports',
        payload: { from: '2024-05-01' },
        ownerId: null,
        queuePrefix: 'girder',
      });
      expect(added()).toEqual([
        [
          'reports.daily',
          expect.objectContaining({ taskId: id }),
          expect.objectContaining({ jobId: id }),
        ],
      ]);
    });

    it('only hands off again a run recorded by an earlier attempt', async () => {
      tasks.exists.mockResolvedValue(true);
      tasks.findUnfinished.mockResolvedValue(null);

      await outbox.submitScheduled(scheduled, 'repeat:daily:1');

      expect(tasks.insertIfAbsent).not.toHaveBeenCalled();
      expect(queue.addBulk).not.toHaveBeenCalled();
    });

    it('derives stable, distinct ids', () => {
      expect(taskIdForJob('repeat:a:1')).toBe(taskIdForJob('repeat:a:1'));
      expect(taskIdForJob('repeat:a:2')).not.toBe(taskIdForJob('repeat:a:1'));
      expect(taskIdForJob('repeat:a:1')).toMatch(UUID);
    });
  });
});

import { AppConfig } from '@girder/config';
import type { Queue } from 'bullmq';
import { newTestService } from '../../../test/unit/new-test-service';
import { QueueBackend, type JobPresence } from './queue-backend';
import { TaskOutbox } from './task-outbox';
import { OUTBOX_GRACE_MS, TaskOutboxSweeper } from './task-outbox-sweeper';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskQueues } from './task-queues.service';
import { TaskSchedules } from './task-schedules';
import { TasksRepository, type OutboxRow } from './tasks.repository';

const CONFIG: Record<string, unknown> = {
  REDIS_KEY_PREFIX: 'girder',
  TASK_OUTBOX_SWEEP_MS: 2_000,
  TASK_RECONCILE_MS: 60_000,
  TASK_LOCK_DURATION_MS: 30_000,
};

function row(id: string, overrides: Partial<OutboxRow> = {}): OutboxRow {
  return {
    id,
    type: 'reports.daily',
    queue: 'reports',
    status: 'queued',
    attempts: 0,
    payload: {},
    ...overrides,
  };
}

/** The queue backend the sweeper asks (Redis or PostgreSQL alike): jobs that exist, data loss. */
class FakeBackend {
  readonly name = 'Redis';
  readonly jobs = new Map<string, JobPresence>();
  lost = false;
  lostItsData = jest.fn(async () => {
    const lost = this.lost;
    this.lost = false;
    return lost;
  });
  findJobs = jest.fn(
    async (_queue: Queue, ids: string[]) =>
      new Map(ids.flatMap((id) => (this.jobs.has(id) ? [[id, this.jobs.get(id)!] as const] : []))),
  );
}

describe('TaskOutboxSweeper', () => {
  let sweeper: TaskOutboxSweeper;
  let tasks: jest.Mocked<TasksRepository>;
  let outbox: jest.Mocked<TaskOutbox>;
  let schedules: jest.Mocked<TaskSchedules>;
  let vault: jest.Mocked<TaskPayloadVault>;
  let queue: { name: string };
  let backend: FakeBackend;

  beforeEach(async () => {
    jest.useFakeTimers();
    backend = new FakeBackend();
    const built = await newTestService(TaskOutboxSweeper, [
      { provide: AppConfig, useValue: { get: (key: string) => CONFIG[key] } },
      { provide: QueueBackend, useValue: backend },
    ]);
    sweeper = built.sut;
    tasks = built.mock(TasksRepository);
    outbox = built.mock(TaskOutbox);
    schedules = built.mock(TaskSchedules);
    vault = built.mock(TaskPayloadVault);
    (outbox as { prefix: string }).prefix = 'girder';
    queue = { name: 'reports' };
    built.mock(TaskQueues).get.mockReturnValue(queue as unknown as Queue);
    tasks.inOwnTransaction.mockImplementation((work) => work());
    tasks.lockUnenqueued.mockResolvedValue([]);
    tasks.lockHandedOff.mockResolvedValue([]);
    outbox.handOff.mockImplementation(async (rows) => rows.map((r) => r.id));
    schedules.registerAll.mockResolvedValue();
    vault.remove.mockResolvedValue();
    sweeper.onApplicationBootstrap(); // its first pass is a timer the tests do not run
  });

  afterEach(async () => {
    await sweeper.onApplicationShutdown();
    jest.useRealTimers();
  });

  describe('sweep', () => {
    it('hands off this deployment’s committed, unqueued tasks older than the grace period', async () => {
      tasks.lockUnenqueued.mockResolvedValueOnce([row('a'), row('b')]);

      expect(await sweeper.sweep()).toBe(2);

      expect(tasks.lockUnenqueued).toHaveBeenCalledWith('girder', OUTBOX_GRACE_MS, 100);
      expect(outbox.handOff).toHaveBeenCalledWith([row('a'), row('b')]);
      expect(tasks.inOwnTransaction).toHaveBeenCalledTimes(1);
    });

    it('takes batch after batch while they are full and all get in', async () => {
      const full = Array.from({ length: 100 }, (_, i) => row(`t${i}`));
      tasks.lockUnenqueued.mockResolvedValueOnce(full).mockResolvedValueOnce([row('last')]);

      expect(await sweeper.sweep()).toBe(101);
      expect(tasks.lockUnenqueued).toHaveBeenCalledTimes(2);
    });

    it('stops when a batch did not get into its queue (Redis down): the next pass retries', async () => {
      const full = Array.from({ length: 100 }, (_, i) => row(`t${i}`));
      tasks.lockUnenqueued.mockResolvedValue(full);
      outbox.handOff.mockResolvedValue([]);

      expect(await sweeper.sweep()).toBe(0);
      expect(tasks.lockUnenqueued).toHaveBeenCalledTimes(1);
    });
  });

  describe('reconcile', () => {
    it('hands off again the tasks whose job is gone, and only those', async () => {
      backend.jobs.set('kept', {});
      const running = row('lost-running', { status: 'running', attempts: 2 });
      tasks.lockHandedOff.mockResolvedValueOnce([row('kept'), row('lost-queued'), running]);

      const report = await sweeper.reconcile(Infinity);

      // Running tasks are offered only once their heartbeat is stale: twice the lock duration.
      expect(tasks.lockHandedOff).toHaveBeenCalledWith('girder', null, 60_000, 100);
      expect(outbox.handOff).toHaveBeenCalledWith([row('lost-queued'), running]);
      expect(report).toEqual({ checked: 3, requeued: 2, failed: 0, notRequeued: 0 });
      expect(backend.findJobs).toHaveBeenCalledWith(queue, ['kept', 'lost-queued', 'lost-running']);
    });

    it('fails a task whose job BullMQ failed without the runner recording it (stalled too often)', async () => {
      backend.jobs.set('stalled', { failedReason: 'job stalled more than allowable limit' });
      tasks.failUnfinished.mockResolvedValue(true);
      tasks.lockHandedOff.mockResolvedValueOnce([row('stalled', { status: 'running' })]);

      const report = await sweeper.reconcile(Infinity);

      expect(tasks.failUnfinished).toHaveBeenCalledWith(
        'stalled',
        'job stalled more than allowable limit',
      );
      expect(vault.remove).toHaveBeenCalledWith('stalled');
      expect(outbox.handOff).not.toHaveBeenCalled();
      expect(report).toEqual({ checked: 1, requeued: 0, failed: 1, notRequeued: 0 });
    });

    it('walks the tasks by id, and a periodic pass carries on where the last one stopped', async () => {
      const page = (from: number) => Array.from({ length: 100 }, (_, i) => row(`id-${from + i}`));
      // Every job is present.
      backend.findJobs.mockImplementation(
        async (_queue, ids) => new Map(ids.map((id) => [id, {}])),
      );
      tasks.lockHandedOff
        .mockResolvedValueOnce(page(0))
        .mockResolvedValueOnce(page(100))
        .mockResolvedValueOnce([row('id-999')]);

      await sweeper.reconcile(100);
      await sweeper.reconcile(100);
      await sweeper.reconcile(100);
      await sweeper.reconcile(100);

      const cursors = tasks.lockHandedOff.mock.calls.map(([, after]) => after);
      expect(cursors).toEqual([null, 'id-99', 'id-199', null]);
    });
  });

  describe('queue data loss (the backend noticed it: Redis restarted empty)', () => {
    it('re-registers the schedules and reconciles every task at once', async () => {
      backend.lost = true;
      tasks.lockHandedOff.mockResolvedValueOnce([row('lost')]);

      await sweeper.tick();

      expect(schedules.registerAll).toHaveBeenCalled();
      expect(outbox.handOff).toHaveBeenCalledWith([row('lost')]);
      expect(tasks.lockUnenqueued).toHaveBeenCalled(); // then the usual sweep

      schedules.registerAll.mockClear();
      await sweeper.tick();
      expect(schedules.registerAll).not.toHaveBeenCalled();
    });
  });

  it('keeps trying the full reconciliation after a data loss until it completes', async () => {
    backend.lost = true;
    tasks.lockHandedOff.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));

    await sweeper.tick(); // the data was lost; the reconciliation fails
    tasks.lockHandedOff.mockResolvedValueOnce([row('lost')]);
    await sweeper.tick(); // no loss reported any more, yet the recovery goes on

    expect(outbox.handOff).toHaveBeenCalledWith([row('lost')]);
    expect(schedules.registerAll).toHaveBeenCalledTimes(1);
    outbox.handOff.mockClear();
    await sweeper.tick();
    expect(tasks.lockHandedOff).toHaveBeenCalledTimes(2); // no full pass any more
  });

  it('keeps recovering after a data loss while lost tasks cannot be handed off yet (queues still reconnecting)', async () => {
    backend.lost = true;
    tasks.lockHandedOff.mockResolvedValue([row('lost')]);
    outbox.handOff.mockResolvedValueOnce([]); // the queue is not connected again yet

    await sweeper.tick();
    outbox.handOff.mockResolvedValueOnce(['lost']);
    await sweeper.tick(); // no loss reported any more, yet the recovery goes on

    expect(outbox.handOff).toHaveBeenCalledTimes(2);
    outbox.handOff.mockClear();
    tasks.lockHandedOff.mockClear();
    await sweeper.tick();
    expect(tasks.lockHandedOff).not.toHaveBeenCalled(); // recovered: no full pass any more
  });

  it('a backend that never loses data (PostgreSQL) only sweeps', async () => {
    await sweeper.tick();

    expect(backend.lostItsData).toHaveBeenCalled();
    expect(schedules.registerAll).not.toHaveBeenCalled();
    expect(tasks.lockHandedOff).not.toHaveBeenCalled();
    expect(tasks.lockUnenqueued).toHaveBeenCalled();
  });

  it('a pass never throws: an unreachable database is reported and the next pass retries', async () => {
    tasks.inOwnTransaction.mockRejectedValue(new Error('connect ECONNREFUSED'));

    await expect(sweeper.tick()).resolves.toBeUndefined();
  });
});

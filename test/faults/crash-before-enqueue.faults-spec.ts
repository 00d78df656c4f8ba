import { queueSchema } from '@girder/tasks';
import type { QueryRunner } from 'typeorm';
import { AppProcess, freePort } from '../support/app-process';
import { ADMIN } from '../support/api-client';
import { TcpProxy } from '../support/tcp-proxy';
import { reportCounts } from './fault-report';
import { FaultWorld } from './fault-world';

/**
 * An API process killed (SIGKILL) after its transactions committed task rows and before it
 * could hand them to the queue (with Redis, its Redis was cut at that moment; on PostgreSQL
 * alone, BullMQ's job table was locked, so the hand-offs hung until the kill): the worker's
 * sweep finds the rows and every task still runs, once.
 */
describe('fault: crash between commit and enqueue', () => {
  const world = new FaultWorld();
  let redisProxy: TcpProxy | undefined;
  let api: AppProcess | undefined;
  let lock: QueryRunner | undefined;

  beforeAll(async () => {
    await world.start({ worker: true });
  });
  afterAll(async () => {
    await lock?.rollbackTransaction().catch(() => undefined);
    await lock?.release();
    await api?.stop();
    await redisProxy?.stop();
    await world.stop();
  });

  it('every task committed by the killed process runs exactly once', async () => {
    if (world.withRedis) {
      redisProxy = new TcpProxy('127.0.0.1', world.redis.port);
      await redisProxy.start();
    }
    const port = await freePort();
    api = new AppProcess('api', {
      PORT: String(port),
      API_WORKERS: '1',
      REDIS_URL: redisProxy ? `redis://127.0.0.1:${redisProxy.port}/0` : '',
      REDIS_KEY_PREFIX: world.env.REDIS_KEY_PREFIX,
      LOG_LEVEL: 'warn',
    });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    const base = `http://127.0.0.1:${port}/api/v1`;
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };

    if (redisProxy) {
      await redisProxy.cut();
    } else {
      // No worker meanwhile (its queries would wait on the lock too), then the job table
      // locked: the API commits each task row, and its hand-off hangs until the kill.
      await world.stopWorker();
      lock = world.database.createQueryRunner();
      await lock.startTransaction();
      await lock.query(
        `LOCK TABLE "${queueSchema(world.env.REDIS_KEY_PREFIX)}".job IN ACCESS EXCLUSIVE MODE`,
      );
    }
    const ids: string[] = [];
    const statuses: number[] = [];
    // Concurrently: with the job table locked, each answers after the hand-off's 2 s timeout.
    await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        const reply = await fetch(`${base}/tasks`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
          body: JSON.stringify({
            type: 'reports.signups',
            payload: { from: '2026-01-01', to: '2026-01-0' + ((n % 9) + 1) },
          }),
        });
        statuses.push(reply.status);
        if (reply.status === 202) ids.push(((await reply.json()) as { id: string }).id);
      }),
    );
    api.kill('SIGKILL');
    await api.exited;
    if (lock) {
      // The killed process's hand-offs still wait on the lock in PostgreSQL: end them, so that
      // only the sweep can hand these tasks off; then release the table and start a worker.
      const [{ enqueued }] = await world.database.query(
        'SELECT count(*)::int AS enqueued FROM tasks WHERE id = ANY($1::uuid[]) AND enqueued_at IS NOT NULL',
        [ids],
      );
      expect(enqueued).toBe(0);
      await world.database.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      await lock.commitTransaction();
      await lock.release();
      lock = undefined;
      await world.startWorker();
    }

    const deadline = Date.now() + 60_000;
    let rows: Array<{ id: string; status: string; attempts: number }> = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rows = await world.database.query(
        'SELECT id, status, attempts FROM tasks WHERE id = ANY($1::uuid[])',
        [ids],
      );
    } while (rows.some((row) => row.status !== 'succeeded') && Date.now() < deadline);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    rows = await world.database.query(
      'SELECT id, status, attempts FROM tasks WHERE id = ANY($1::uuid[])',
      [ids],
    );

    const lost = ids.length - rows.filter((row) => row.status === 'succeeded').length;
    const ranTwice = rows.filter((row) => row.attempts > 1).length;
    reportCounts('crash-between-commit-and-enqueue', {
      accepted: ids.length,
      refused: statuses.filter((status) => status !== 202).length,
      tasksLost: lost,
      tasksRunTwice: ranTwice,
    });
    expect(statuses).toEqual(Array(10).fill(202));
    expect(lost).toBe(0);
    expect(ranTwice).toBe(0);
  });
});

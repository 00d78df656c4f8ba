import {
  Injectable,
  Module,
  type INestApplication,
  type INestApplicationContext,
} from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { Propagation, runInTransaction } from '@girder/database';
import { IsAuthenticated, type CurrentUser } from '@girder/permissions';
import {
  QueueBackend,
  TaskHandler,
  TaskQueues,
  TaskSchedules,
  TaskType,
  TasksService,
  selectQueueBackend,
  type TaskContext,
} from '@girder/tasks';
import { SIGNUPS_SCHEDULER_ID } from '@girder/users';
import { IsInt, Max, Min } from 'class-validator';
import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { bulkImportCsv } from '../support/bulk-import';
import { ApiClient, type SessionBody } from '../support/api-client';
import { AppProcess, freePort } from '../support/app-process';
import { describeWithRedis, e2eRedisUrl } from '../support/redis-mode';
import { TcpProxy } from '../support/tcp-proxy';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';

/**
 * PostgreSQL is the record, the queue the accelerator: tasks survive a crash between commit and
 * hand-off and PostgreSQL being unreachable from the worker, in both modes; with Redis, also
 * Redis being unreachable at submit time and Redis restarting empty. With Redis everything runs
 * on a Redis server of this file's own (so it can be flushed), the queues' connections behind a
 * proxy that can be cut; the workers' database connections (and, on PostgreSQL alone, their
 * queues with them) go through a proxy too.
 */

/** How often each task id started running in this process (the in-process workers). */
const runs = new Map<string, number>();

class CountPayload {
  @IsInt()
  @Min(0)
  @Max(20_000)
  ms!: number;
}

/** Counts its runs, then waits; a single attempt, so any attempt used up by an outage shows. */
@Injectable()
@TaskType({
  name: 'test.outbox-count',
  queue: 'reports',
  payload: CountPayload,
  permission: IsAuthenticated,
  attempts: 1,
})
class CountTask extends TaskHandler<CountPayload, { ran: number }> {
  async run(payload: CountPayload, context: TaskContext): Promise<{ ran: number }> {
    const ran = (runs.get(context.taskId) ?? 0) + 1;
    runs.set(context.taskId, ran);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, payload.ms);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { ran };
  }
}

@Module({ providers: [CountTask] })
class OutboxTaskTypesModule {}

interface TaskRow {
  id: string;
  status: string;
  attempts: number;
  error: string | null;
  enqueued: boolean;
  result: { ran?: number; created?: number } | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A throw-away redis-server: no persistence, so a restart comes back empty. */
async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
  probe.disconnect();
  return server;
}

async function stopRedis(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

describe('the task outbox: PostgreSQL is the record, the queue the accelerator', () => {
  let redisPort: number;
  let redisServer: ChildProcess | undefined;
  let redis: Redis;
  let queueProxy: TcpProxy | undefined;
  let databaseProxy: TcpProxy;
  let env: Record<string, string>;
  let workerEnv: Record<string, string>;
  const workers: INestApplicationContext[] = [];
  const processes: AppProcess[] = [];
  let app: INestApplication;
  let api: ApiClient;
  let member: SessionBody;
  let database: DataSource;

  beforeAll(async () => {
    if (e2eRedisUrl) {
      redisPort = await freePort();
      redisServer = await startRedis(redisPort);
      redis = new Redis({ port: redisPort });
      queueProxy = new TcpProxy('127.0.0.1', redisPort);
      await queueProxy.start();
    }
    const databaseUrl = new URL(process.env.DATABASE_URL!);
    databaseProxy = new TcpProxy(databaseUrl.hostname, Number(databaseUrl.port || 5432));
    databaseUrl.port = String(await databaseProxy.start());

    env = {
      REDIS_URL: queueProxy ? `redis://127.0.0.1:${redisPort}/0` : '',
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_outbox`,
      TASK_OUTBOX_SWEEP_MS: '200',
      TASK_RECONCILE_MS: '2000',
      WORKER_CONCURRENCY: '2',
    };
    // The workers reach Redis and PostgreSQL through the proxies.
    workerEnv = {
      ...env,
      REDIS_URL: queueProxy ? `redis://127.0.0.1:${queueProxy.port}/0` : '',
      DATABASE_URL: databaseUrl.toString(),
    };
    // Two workers sweep the same outbox. Both start before the API, so @Transactional() in this
    // process (runInTransaction below) uses the API's connection, as TasksService does.
    for (let i = 0; i < 2; i += 1) {
      workers.push(await withEnv(workerEnv, () => createWorkerApp([OutboxTaskTypesModule])));
    }
    // With Redis, the API reaches the task queues through the proxy, and the rest of Redis
    // directly. On PostgreSQL alone it reaches its database (and the queues in it) directly.
    const queueRedisUrl = workerEnv.REDIS_URL;
    app = await withEnv(env, () =>
      createApiApp({
        imports: [OutboxTaskTypesModule],
        configure: (builder) =>
          builder.overrideProvider(QueueBackend).useFactory({
            inject: [AppConfig],
            factory: (config: AppConfig) => {
              const proxied = Object.create(config) as AppConfig;
              proxied.get = ((key: Parameters<AppConfig['get']>[0]) =>
                key === 'REDIS_URL'
                  ? queueRedisUrl || undefined
                  : config.get(key)) as AppConfig['get'];
              return selectQueueBackend(proxied);
            },
          }),
      }),
    );
    api = new ApiClient(app);
    member = await api.register();
    database = app.get(DataSource);
  });

  afterAll(async () => {
    await queueProxy?.restore();
    await databaseProxy?.restore();
    await Promise.all(processes.map((process) => process.stop()));
    for (const worker of workers) await worker.close();
    await app?.close();
    redis?.disconnect();
    await queueProxy?.stop();
    await databaseProxy?.stop();
    await stopRedis(redisServer);
  });

  const submit = async (ms: number): Promise<string> => {
    const response = await api.send(
      'post',
      '/api/v1/tasks',
      { type: 'test.outbox-count', payload: { ms } },
      member.accessToken,
    );
    expect(response.status).toBe(202);
    return response.body.id as string;
  };

  const read = async (ids: string[]): Promise<TaskRow[]> =>
    database.query(
      `SELECT id, status, attempts, error, result, enqueued_at IS NOT NULL AS enqueued
         FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY created_at, id`,
      [ids],
    );

  /** Polls the records until `done` holds for every one, or fails with their last state. */
  const until = async (
    ids: string[],
    done: (row: TaskRow) => boolean,
    timeoutMs = 20_000,
  ): Promise<TaskRow[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await read(ids);
      if (rows.length === ids.length && rows.every(done)) return rows;
      if (Date.now() > deadline) {
        throw new Error(`tasks did not get there in time: ${JSON.stringify(rows)}`);
      }
      await sleep(100);
    }
  };
  const succeeded = (row: TaskRow) => row.status === 'succeeded';

  /** Each task ended succeeded after one attempt, and its handler ran exactly once. */
  const expectRanOnce = (rows: TaskRow[]) => {
    for (const row of rows) {
      expect({
        id: row.id,
        status: row.status,
        attempts: row.attempts,
        runs: runs.get(row.id),
      }).toEqual({ id: row.id, status: 'succeeded', attempts: 1, runs: 1 });
    }
  };

  it('tasks committed without their job (a crash between commit and hand-off) run exactly once, with two workers sweeping', async () => {
    const inserted: Array<{ id: string }> = await database.query(
      `INSERT INTO tasks (type, queue, payload, queue_prefix)
       SELECT 'test.outbox-count', 'reports', '{"ms":0}', $1 FROM generate_series(1, 30)
       RETURNING id`,
      [env.REDIS_KEY_PREFIX],
    );
    const ids = inserted.map((row) => row.id);

    expectRanOnce(await until(ids, succeeded));
  });

  it('submissions made together share one INSERT and one hand-off, and each task runs once with its own payload', async () => {
    const payloads = Array.from({ length: 40 }, (_, i) => ({ ms: i % 3 }));
    const submitted = await Promise.all(
      payloads.map((payload) => app.get(TasksService).submitAsSystem('test.outbox-count', payload)),
    );
    const ids = submitted.map((task) => task.id);

    expect(new Set(ids).size).toBe(40);
    expect(submitted.map((task) => task.payload)).toEqual(payloads);
    // Answered as just stored, the database's defaults included, without reading the rows back.
    for (const task of submitted)
      expect(task).toEqual({
        id: expect.any(String),
        type: 'test.outbox-count',
        status: 'queued',
        progress: 0,
        payload: task.payload,
        result: null,
        error: null,
        attempts: 0,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        startedAt: null,
        finishedAt: null,
      });
    // One statement, one transaction: every row has the same now().
    const created: unknown[] = await database.query(
      `SELECT DISTINCT created_at FROM tasks WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(created).toHaveLength(1);
    expectRanOnce(await until(ids, succeeded));
  });

  it('a submission answers its task exactly as a read of the stored row does', async () => {
    const tasks = app.get(TasksService);
    const admin: CurrentUser = {
      id: randomUUID(),
      role: 'admin',
      sessionId: randomUUID(),
      emailVerified: true,
    };
    // Inside a transaction that is rolled back: no worker ever sees the row change.
    await expect(
      runInTransaction(Propagation.Required, async () => {
        const submitted = await tasks.submitAsSystem('test.outbox-count', { ms: 0 });
        expect(submitted).toEqual(await tasks.get(submitted.id, admin));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
  });

  it('a task submitted inside a transaction reaches the queue only after commit, and not at all after a rollback', async () => {
    const tasks = app.get(TasksService);
    const queue = app.get(TaskQueues).get('reports');

    let committedId = '';
    await runInTransaction(Propagation.Required, async () => {
      committedId = (await tasks.submitAsSystem('test.outbox-count', { ms: 0 })).id;
      // Longer than the sweep's grace period: still nobody can see it.
      await sleep(1_500);
      expect(await queue.getJob(committedId)).toBeUndefined();
      expect(await read([committedId])).toEqual([]);
    });
    expectRanOnce(await until([committedId], succeeded));

    let rolledBackId = '';
    await expect(
      runInTransaction(Propagation.Required, async () => {
        rolledBackId = (await tasks.submitAsSystem('test.outbox-count', { ms: 0 })).id;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await sleep(1_000);
    expect(await read([rolledBackId])).toEqual([]);
    expect(await queue.getJob(rolledBackId)).toBeUndefined();
    expect(runs.get(rolledBackId)).toBeUndefined();
  });

  it('a task that finishes while PostgreSQL is unreachable from the worker records its outcome once it is back', async () => {
    const id = await submit(2_000);
    await until([id], (row) => row.status === 'running');

    await databaseProxy.cut();
    try {
      // The handler finishes at 2 s; its outcome waits for PostgreSQL.
      await sleep(3_000);
      expect(await read([id])).toEqual([expect.objectContaining({ status: 'running' })]);
    } finally {
      await databaseProxy.restore();
    }
    expectRanOnce(await until([id], succeeded));
  });

  it('a task whose run fails only because PostgreSQL is unreachable does not use up an attempt', async () => {
    await databaseProxy.cut();
    let id = '';
    try {
      // The API reaches PostgreSQL directly: the task is recorded and handed off.
      id = await submit(0);
      await until([id], (row) => row.enqueued);
      await sleep(2_500); // the workers take the job, cannot claim it, and put it back
      expect(await read([id])).toEqual([
        expect.objectContaining({ status: 'queued', attempts: 0 }),
      ]);
    } finally {
      await databaseProxy.restore();
    }
    // Its single attempt is still there.
    expectRanOnce(await until([id], succeeded));
  });

  // About Redis itself: its outage at submit time and its data loss.
  describeWithRedis('when the queues’ Redis fails', () => {
    it('POST /tasks answers 202 while the task queue’s Redis is unreachable; the task runs once it is back', async () => {
      await queueProxy!.cut();
      try {
        const started = Date.now();
        const id = await submit(0);
        expect(Date.now() - started).toBeLessThan(1_500);

        // Recorded, not handed off; no worker can reach the queue either.
        await sleep(1_500);
        expect(await read([id])).toEqual([
          expect.objectContaining({ status: 'queued', attempts: 0, enqueued: false }),
        ]);
        expect(runs.get(id)).toBeUndefined();

        await queueProxy!.restore();
        const rows = await until([id], succeeded);
        expectRanOnce(rows);
        expect(rows[0].enqueued).toBe(true);
      } finally {
        await queueProxy!.restore();
      }
    });

    it('Redis restarted empty (FLUSHALL): queued and running tasks complete exactly once, and the schedules are back', async () => {
      await workers[0].get(TaskSchedules).registered;
      const queue = app.get(TaskQueues).get('reports');
      expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toContain(
        SIGNUPS_SCHEDULER_ID,
      );

      // Two workers × concurrency 2: four run, six wait in Redis.
      const ids: string[] = [];
      for (let i = 0; i < 10; i += 1) ids.push(await submit(1_500));
      const deadline = Date.now() + 10_000;
      let rows = await read(ids);
      while (rows.filter((row) => row.status === 'running').length < 2) {
        if (Date.now() > deadline) throw new Error(`none running: ${JSON.stringify(rows)}`);
        await sleep(50);
        rows = await read(ids);
      }
      expect(rows.filter((row) => row.status === 'queued').length).toBeGreaterThan(0);

      await redis.flushall();
      expect(await redis.dbsize()).toBe(0);

      expectRanOnce(await until(ids, succeeded, 40_000));
      const deadlineForSchedules = Date.now() + 10_000;
      let keys: string[] = [];
      while (!keys.includes(SIGNUPS_SCHEDULER_ID) && Date.now() < deadlineForSchedules) {
        await sleep(100);
        keys = (await queue.getJobSchedulers()).map((scheduler) => scheduler.key);
      }
      expect(keys).toEqual([SIGNUPS_SCHEDULER_ID]);
      expect(await redis.exists(`${env.REDIS_KEY_PREFIX}:queue:epoch`)).toBe(1);
    }, 60_000);

    it('a worker killed mid-import while Redis loses its data: the import is re-queued and resumes from its checkpoint, every row created once', async () => {
      const admin = await api.loginAdmin();
      const startWorker = async () => {
        const port = await freePort();
        // A real process: it can be killed. Its own database connection and Redis (no proxies).
        const worker = new AppProcess('worker', {
          ...env,
          WORKER_HEALTH_PORT: String(port),
          LOG_LEVEL: 'warn',
        });
        processes.push(worker);
        await worker.waitFor(`http://127.0.0.1:${port}/health/ready`);
        return worker;
      };
      // Only killable workers from here on.
      for (const worker of workers.splice(0)) await worker.close();

      const tag = `outbox${Date.now()}`;
      const { csv, emails } = bulkImportCsv(tag, 600);
      const id = await api.submitAccepted('users.import', { csv }, admin.accessToken);

      const first = await startWorker();
      const progressed = Date.now() + 60_000;
      let progress = 0;
      while (progress < 20 && Date.now() < progressed) {
        await sleep(50);
        const [row] = await database.query<Array<{ progress: number }>>(
          'SELECT progress FROM tasks WHERE id = $1',
          [id],
        );
        progress = row.progress;
      }
      expect(progress).toBeGreaterThanOrEqual(20);
      first.kill('SIGKILL');
      await first.exited;
      await redis.flushall();

      await startWorker();
      const [done] = await until([id], (row) => row.status === 'succeeded', 60_000);
      expect(done).toMatchObject({ attempts: 1, result: { created: 600 } });
      const [{ n }] = await database.query(
        'SELECT count(*)::int AS n FROM users WHERE email = ANY($1)',
        [emails],
      );
      expect(n).toBe(600);
    }, 120_000);
  });
});

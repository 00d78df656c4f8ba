import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Propagation, runInTransaction } from '@girder/database';
import { TaskSchedules } from '@girder/tasks';
import { SIGNUPS_SCHEDULER_ID, UsersService } from '@girder/users';
import type { Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  ADMIN,
  ApiClient,
  expectNoPasswordHashes,
  uniqueEmail,
  type SessionBody,
} from '../support/api-client';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';
import { TestTaskTypesModule } from './test-task-types';

/** Queues of this file only: other suites' jobs never reach these workers. */
const ENV = { REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_tasks`, WORKER_CONCURRENCY: '2' };

interface TaskBody {
  id: string;
  type: string;
  status: string;
  progress: number;
  payload: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- results differ per type
  result: Record<string, any> | null;
  error: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
}

describe('tasks (/api/v1/tasks) with a real worker', () => {
  let app: INestApplication;
  let worker: INestApplicationContext;
  let secondWorker: INestApplicationContext | undefined;
  let api: ApiClient;
  let admin: SessionBody;
  let member: SessionBody;

  beforeAll(async () => {
    app = await withEnv(ENV, () => createApiApp({ imports: [TestTaskTypesModule] }));
    worker = await withEnv(ENV, () => createWorkerApp([TestTaskTypesModule]));
    api = new ApiClient(app);
    admin = await api.loginAdmin();
    member = await api.register();
  });
  afterAll(async () => {
    expectNoPasswordHashes(api.bodies);
    await secondWorker?.close();
    await worker?.close();
    await app?.close();
  });

  const submit = (type: string, payload: object, token = admin.accessToken) =>
    api.send('post', '/api/v1/tasks', { type, payload }, token);
  const waitFor = async (
    id: string,
    token = admin.accessToken,
    waitMs = 20_000,
  ): Promise<TaskBody> => {
    const response = await api.get(`/api/v1/tasks/${id}?waitMs=${waitMs}`, token);
    expect(response.status).toBe(200);
    return response.body as TaskBody;
  };

  describe('users.export', () => {
    it('202 with Location, then succeeded with a downloadable CSV of every user, without hashes', async () => {
      const submitted = await submit('users.export', {});
      expect(submitted.status).toBe(202);
      expect(submitted.headers.location).toBe(`/api/v1/tasks/${submitted.body.id}`);
      expect(submitted.body).toMatchObject({
        type: 'users.export',
        status: 'queued',
        progress: 0,
        attempts: 0,
        result: null,
      });

      const task = await waitFor(submitted.body.id);
      expect(task).toMatchObject({ status: 'succeeded', progress: 100, attempts: 1, error: null });
      const count = await app.get(DataSource).query('SELECT count(*)::int AS n FROM users');
      expect(task.result!.rows).toBeGreaterThanOrEqual(count[0].n - 50); // other suites insert concurrently
      expect(task.result!.file).toBe(`users-${task.id}.csv`);

      const download = await api
        .http()
        .get(`/api/v1/tasks/${task.id}/download`)
        .set('Authorization', `Bearer ${admin.accessToken}`)
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => done(null, text));
        });
      expect(download.status).toBe(200);
      expect(download.headers['content-type']).toMatch(/^text\/csv/);
      expect(download.headers['content-disposition']).toContain(`users-${task.id}.csv`);
      const lines = (download.body as string).trim().split('\n');
      expect(lines[0]).toBe('id,email,name,role,isActive,createdAt');
      expect(lines).toHaveLength(task.result!.rows + 1);
      expect(download.body).toContain('admin@e2e.test');
      expect(download.body).not.toMatch(/argon2/);
    });
  });

  describe('users.import', () => {
    it('creates valid rows, skips taken and repeated emails, reports errors per line, never stores the CSV', async () => {
      const fresh = [uniqueEmail('imp'), uniqueEmail('imp'), uniqueEmail('imp')];
      const csv = [
        'email,name,password,role',
        `${fresh[0]},Imported One,imported-pass-1,user`,
        `${fresh[1].toUpperCase()},Imported Two,imported-pass-2,admin`,
        'admin@e2e.test,Taken,whatever-password,user',
        `${fresh[0]},Repeat,imported-pass-1,user`,
        'not-an-email,Bad,imported-pass-3,user',
        `${uniqueEmail()},Short Password,short,user`,
        `${uniqueEmail()},Bad Role,imported-pass-4,root`,
        `${fresh[2]},"Name, with comma",imported-pass-5,`,
      ].join('\n');
      const submitted = await submit('users.import', { csv });
      expect(submitted.status).toBe(202);
      expect(submitted.body.payload).toEqual({ rows: 8, bytes: Buffer.byteLength(csv) });

      const task = await waitFor(submitted.body.id);
      expect(task.status).toBe('succeeded');
      expect(task.result).toEqual({
        created: 3,
        skipped: 2,
        errors: [
          { line: 6, message: 'email must be an email' },
          { line: 7, message: 'password must be 8 to 128 characters' },
          { line: 8, message: 'role must be user or admin' },
        ],
      });
      const imported = await api.login(fresh[1], 'imported-pass-2');
      expect(imported.user).toMatchObject({ email: fresh[1], role: 'admin', name: 'Imported Two' });
      expect((await api.login(fresh[2], 'imported-pass-5')).user.name).toBe('Name, with comma');
      const stored = await app
        .get(DataSource)
        .query('SELECT payload FROM tasks WHERE id = $1', [task.id]);
      expect(JSON.stringify(stored)).not.toContain('imported-pass');
      // The CSV lived in a file of the task's own while it ran; it is gone now.
      expect(existsSync(join(process.env.STORAGE_DIR!, 'task-inputs', `${task.id}.json`))).toBe(
        false,
      );
    });

    it('rejects a CSV without the required header or with too many rows (400)', async () => {
      expect((await submit('users.import', { csv: 'mail,name\nx,y' })).status).toBe(400);
      const huge = [
        'email,name,password',
        ...Array.from({ length: 10_001 }, (_, i) => `u${i}@example.com,U,password-1`),
      ].join('\n');
      const response = await submit('users.import', { csv: huge });
      expect(response.status).toBe(400);
      expect(response.body.detail).toContain('at most 10000');
    });
  });

  describe('reports.signups', () => {
    it('counts signups per day, zero days included', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const submitted = await submit('reports.signups', { from: yesterday, to: tomorrow });
      expect(submitted.status).toBe(202);
      const task = await waitFor(submitted.body.id);
      expect(task.status).toBe('succeeded');
      const days = task.result!.days as Array<{ date: string; count: number }>;
      expect(days.map((day) => day.date)).toEqual([yesterday, today, tomorrow]);
      const [{ n }] = await app
        .get(DataSource)
        .query(
          "SELECT count(*)::int AS n FROM users WHERE created_at >= $1::date AND created_at < $1::date + interval '1 day'",
          [today],
        );
      expect(days[1].count).toBeGreaterThan(0);
      expect(days[1].count).toBeLessThanOrEqual(n);
      expect(days[2].count).toBe(0);
    });

    it.each([
      [{ from: '2026-02-10', to: '2026-02-01' }, 'from must not be after to'],
      [{ from: '2026-02-30', to: '2026-03-01' }, 'real calendar dates'],
      [{ from: '2020-01-01', to: '2026-01-01' }, 'at most 366 days'],
      [{ from: 'yesterday', to: '2026-01-01' }, 'from must be a date'],
    ])('rejects %j with 400', async (payload, message) => {
      const response = await submit('reports.signups', payload);
      expect(response.status).toBe(400);
      expect(response.body.detail).toContain(message);
    });

    it('is scheduled exactly once, however many workers boot', async () => {
      // A second worker on the same queues; closed in afterAll (see docs on @Transactional and several apps).
      secondWorker = await withEnv(ENV, () => createWorkerApp([TestTaskTypesModule]));
      await worker.get(TaskSchedules).registered;
      await secondWorker.get(TaskSchedules).registered;
      const queue = worker.get<Queue>(getQueueToken('reports'), { strict: false });
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((scheduler) => scheduler.key)).toEqual([SIGNUPS_SCHEDULER_ID]);
      expect(schedulers[0]).toMatchObject({ name: 'reports.signups', pattern: '0 0 * * *' });
    });
  });

  describe('who may submit what', () => {
    it.each([
      ['users.import', { csv: 'email,name,password\na@example.com,A,password-1' }, 403],
      ['users.export', {}, 403],
      ['reports.signups', { from: '2026-01-01', to: '2026-01-02' }, 403],
      [
        'email.welcome',
        { userId: '0b7c6f2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e', email: 'a@example.com', name: 'A' },
        400,
      ],
      ['no.such.type', {}, 400],
    ])('a member submitting %s %j → %i', async (type, payload, status) => {
      const response = await submit(type, payload, member.accessToken);
      expect(response.status).toBe(status);
    });

    it('admins cannot submit email.welcome either; bad payloads are 400 naming the field; no token is 401', async () => {
      const welcome = await submit('email.welcome', {
        userId: '0b7c6f2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e',
        email: 'a@example.com',
        name: 'A',
      });
      expect(welcome.status).toBe(400);
      expect(welcome.body.errors[0]).toMatchObject({ field: 'type' });
      const missing = await submit('users.import', {});
      expect(missing.status).toBe(400);
      expect(missing.body.errors.map((error: { field: string }) => error.field)).toContain(
        'payload.csv',
      );
      const extra = await submit('users.export', { sneaky: true });
      expect(extra.status).toBe(400);
      expect(extra.body.errors[0].field).toBe('payload.sneaky');
      expect(
        (await api.send('post', '/api/v1/tasks', { type: 'users.export' }, admin.accessToken))
          .status,
      ).toBe(400);
      expect(
        (await api.send('post', '/api/v1/tasks', { type: 'users.export', payload: {} })).status,
      ).toBe(401);
    });
  });

  describe('visibility', () => {
    it("another user's task is a 404 everywhere; admins see everyone's", async () => {
      const mine = (await submit('test.slow', { ms: 0 }, member.accessToken)).body as TaskBody;
      const other = await api.register();
      for (const path of [`/api/v1/tasks/${mine.id}`, `/api/v1/tasks/${mine.id}/download`]) {
        expect((await api.get(path, other.accessToken)).status).toBe(404);
      }
      expect(
        (await api.send('delete', `/api/v1/tasks/${mine.id}`, undefined, other.accessToken)).status,
      ).toBe(404);
      expect((await api.get(`/api/v1/tasks/${mine.id}`, admin.accessToken)).status).toBe(200);

      const own = await api.get('/api/v1/tasks', member.accessToken);
      expect(own.body.items.map((task: TaskBody) => task.id)).toContain(mine.id);
      expect((await api.get('/api/v1/tasks', other.accessToken)).body.items).toEqual([]);
      const all = await api.get('/api/v1/tasks?all=true&limit=100', admin.accessToken);
      expect(all.body.items.map((task: TaskBody) => task.id)).toContain(mine.id);
      expect((await api.get('/api/v1/tasks?all=true', member.accessToken)).status).toBe(403);
    });

    it('malformed ids are 400, unknown ids 404, waitMs outside 0..30000 is 400', async () => {
      expect((await api.get('/api/v1/tasks/nope', admin.accessToken)).status).toBe(400);
      expect(
        (await api.get('/api/v1/tasks/0b7c6f2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e', admin.accessToken))
          .status,
      ).toBe(404);
      const task = (await submit('test.slow', { ms: 0 })).body as TaskBody;
      expect(
        (await api.get(`/api/v1/tasks/${task.id}?waitMs=30001`, admin.accessToken)).status,
      ).toBe(400);
      expect((await api.get(`/api/v1/tasks/${task.id}?waitMs=-1`, admin.accessToken)).status).toBe(
        400,
      );
    });
  });

  describe('the running state', () => {
    it('a quick run goes from queued to succeeded in one write; a longer one is recorded as running', async () => {
      // Every status change of the tasks table, as PostgreSQL sees it.
      const db = app.get(DataSource);
      await db.query(
        `CREATE TABLE e2e_task_statuses (task_id uuid, status text, at timestamptz DEFAULT clock_timestamp())`,
      );
      await db.query(`CREATE FUNCTION e2e_record_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO e2e_task_statuses (task_id, status) VALUES (NEW.id, NEW.status); RETURN NEW; END $$`);
      await db.query(`CREATE TRIGGER e2e_task_statuses AFTER UPDATE OF status ON tasks FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION e2e_record_task_status()`);
      const statuses = async (id: string) =>
        (
          await db.query<Array<{ status: string }>>(
            'SELECT status FROM e2e_task_statuses WHERE task_id = $1 ORDER BY at',
            [id],
          )
        ).map((row) => row.status);
      try {
        const quick = (await submit('test.slow', { ms: 0 })).body as TaskBody;
        const long = (await submit('test.slow', { ms: 600 })).body as TaskBody;
        const quickDone = await waitFor(quick.id);
        const longDone = await waitFor(long.id);

        expect(await statuses(quick.id)).toEqual(['succeeded']);
        expect(await statuses(long.id)).toEqual(['running', 'succeeded']);
        for (const done of [quickDone, longDone]) {
          expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
          expect(Date.parse(done.startedAt!)).toBeLessThanOrEqual(Date.parse(done.finishedAt!));
        }
      } finally {
        await db.query('DROP TRIGGER e2e_task_statuses ON tasks');
        await db.query('DROP FUNCTION e2e_record_task_status()');
        await db.query('DROP TABLE e2e_task_statuses');
      }
    });
  });

  describe('waiting, cancelling, failing', () => {
    it('waitMs answers with the current state when time is up, and the final state once finished', async () => {
      const task = (await submit('test.slow', { ms: 1_500 })).body as TaskBody;
      const early = await api.get(`/api/v1/tasks/${task.id}?waitMs=200`, admin.accessToken);
      expect(['queued', 'running']).toContain(early.body.status);
      const done = await waitFor(task.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { waited: 1_500 } });
    });

    it('cancels a queued task (200 cancelled, never runs); a running or finished one is 409', async () => {
      // Two workers × concurrency 2 on the reports queue: six slow tasks leave some queued.
      const submitted: TaskBody[] = [];
      for (let i = 0; i < 6; i += 1)
        submitted.push((await submit('test.slow', { ms: 2_500 })).body as TaskBody);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const states: TaskBody[] = await Promise.all(
        submitted.map(
          async (task) =>
            (await api.get(`/api/v1/tasks/${task.id}`, admin.accessToken)).body as TaskBody,
        ),
      );
      const queued = states.filter((task) => task.status === 'queued');
      const running = states.filter((task) => task.status === 'running');
      expect(queued.length).toBeGreaterThan(0);
      expect(running.length).toBeGreaterThan(0);

      const cancelled = await api.send(
        'delete',
        `/api/v1/tasks/${queued[0].id}`,
        undefined,
        admin.accessToken,
      );
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      const busy = await api.send(
        'delete',
        `/api/v1/tasks/${running[0].id}`,
        undefined,
        admin.accessToken,
      );
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('CONFLICT');

      for (const task of submitted) await waitFor(task.id);
      const finished = await api.send(
        'delete',
        `/api/v1/tasks/${running[0].id}`,
        undefined,
        admin.accessToken,
      );
      expect(finished.status).toBe(409);
      expect(
        (await api.get(`/api/v1/tasks/${queued[0].id}`, admin.accessToken)).body,
      ).toMatchObject({ status: 'cancelled', attempts: 0, startedAt: null });
    });

    it('a failing handler is retried with backoff, then ends failed with its error', async () => {
      const task = (await submit('test.always-fails', {}, member.accessToken)).body as TaskBody;
      const done = await waitFor(task.id, member.accessToken);
      expect(done).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: 'Deliberate failure on attempt 3',
      });
      expect((await api.get(`/api/v1/tasks/${task.id}/download`, member.accessToken)).status).toBe(
        409,
      );
    });

    it('runs that end together, whose states share one statement, each get their own outcome', async () => {
      // Two at a time (the worker's concurrency): 0 and 2 succeed together, then 1 and 3 fail together.
      const ids: string[] = [];
      for (const n of [0, 2, 1, 3]) {
        const submitted = await submit('test.together', { n, together: 2 }, member.accessToken);
        expect(submitted.status).toBe(202);
        ids.push((submitted.body as TaskBody).id);
      }
      const done = await Promise.all(ids.map((id) => waitFor(id, member.accessToken)));

      expect(
        done.map(({ status, attempts, result, error }) => ({ status, attempts, result, error })),
      ).toEqual([
        { status: 'succeeded', attempts: 1, result: { n: 0 }, error: null },
        { status: 'succeeded', attempts: 1, result: { n: 2 }, error: null },
        { status: 'failed', attempts: 1, result: null, error: 'Failure of task 1' },
        { status: 'failed', attempts: 1, result: null, error: 'Failure of task 3' },
      ]);
    });
  });

  describe('email.welcome after registration', () => {
    const welcomeTasks = (email: string) =>
      app
        .get(DataSource)
        .query(
          "SELECT id, status FROM tasks WHERE type = 'email.welcome' AND payload->>'email' = $1",
          [email],
        );

    it('is queued once the registration commits and writes the mail to the outbox', async () => {
      const session = await api.register();
      const [queued] = await welcomeTasks(session.user.email);
      expect(queued).toBeDefined();
      const task = await waitFor(queued.id);
      expect(task.status).toBe('succeeded');
      expect(task.result).toMatchObject({
        transport: 'outbox',
        file: `outbox/welcome-${queued.id}.eml`,
      });
      expect(existsSync(join(process.env.STORAGE_DIR!, 'outbox', `welcome-${queued.id}.eml`))).toBe(
        true,
      );
    });

    it('is not queued when the registering transaction rolls back', async () => {
      const email = uniqueEmail('rollback');
      await expect(
        runInTransaction(Propagation.Required, async () => {
          await app
            .get(UsersService)
            .register({ email, password: 'rollback-password', name: 'Rolled Back' });
          throw new Error('abort the registration');
        }),
      ).rejects.toThrow('abort the registration');
      expect(
        await app.get(DataSource).query('SELECT id FROM users WHERE email = $1', [email]),
      ).toEqual([]);
      expect(await welcomeTasks(email)).toEqual([]);
    });
  });

  describe('graceful shutdown of the worker', () => {
    it('a running job finishes before the worker closes', async () => {
      // Its own queues, so the suite's main worker cannot take the job.
      const env = { ...ENV, REDIS_KEY_PREFIX: `${ENV.REDIS_KEY_PREFIX}_shutdown` };
      const ownApi = await withEnv(env, () => createApiApp({ imports: [TestTaskTypesModule] }));
      const ownWorker = await withEnv(env, () => createWorkerApp([TestTaskTypesModule]));
      try {
        const client = new ApiClient(ownApi);
        const session = await client.register();
        const submitted = await client.send(
          'post',
          '/api/v1/tasks',
          { type: 'test.slow', payload: { ms: 1_500 } },
          session.accessToken,
        );
        expect(submitted.status).toBe(202);
        const id = submitted.body.id as string;
        let status = 'queued';
        while (status !== 'running') {
          await new Promise((resolve) => setTimeout(resolve, 50));
          status = (await client.get(`/api/v1/tasks/${id}`, session.accessToken)).body.status;
        }

        await ownWorker.close();
        const after = await client.get(`/api/v1/tasks/${id}`, session.accessToken);
        expect(after.body).toMatchObject({ status: 'succeeded', result: { waited: 1_500 } });
      } finally {
        await ownApi.close();
      }
    });
  });

  describe('operations', () => {
    it('readiness includes the queues', async () => {
      const response = await api.get('/health/ready');
      expect(response.body.info).toMatchObject({ queues: { status: 'up' } });
    });

    it('the queue dashboard is for admins only', async () => {
      expect((await api.get('/admin/queues')).status).toBe(401);
      expect((await api.get('/admin/queues', member.accessToken)).status).toBe(403);
      const page = await api.get('/admin/queues', admin.accessToken);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<html');
    });

    it('a feature’s own queue: declared in @TaskType, worked by the worker, shown on the dashboard', async () => {
      const submitted = await submit('test.own-queue', {});
      expect(submitted.status).toBe(202);
      const done = await waitFor(submitted.body.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { queue: 'test-own-queue' } });

      const board = await api.get('/admin/queues/api/queues', admin.accessToken);
      expect(board.status).toBe(200);
      const names = (board.body.queues as Array<{ name: string }>).map((queue) => queue.name);
      expect(names).toEqual(
        expect.arrayContaining(['users', 'reports', 'email', 'test-own-queue']),
      );
    });

    it('a browser signs in to the dashboard with an admin email and password (Basic)', async () => {
      const basic = (email: string, password: string) =>
        api
          .http()
          .get('/admin/queues')
          .set('Authorization', `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`);

      const anonymous = await api.http().get('/admin/queues');
      expect(anonymous.headers['www-authenticate']).toContain('Basic');

      const page = await basic(ADMIN.email, ADMIN.password);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<html');

      const someone = await api.register({ password: 'member-basic-password' });
      expect((await basic(someone.user.email, 'member-basic-password')).status).toBe(403);
      expect((await basic(ADMIN.email, 'wrong-password')).status).toBe(401);
    });
  });
});

import { queueSchema } from '@girder/tasks';
import { LATEST_SCHEMA_VERSION } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ADMIN } from '../support/api-client';
import { AppProcess, freePort } from '../support/app-process';
import { waitUntil } from '../support/throwaway-redis';

/**
 * PostgreSQL-only mode (REDIS_URL unset) on a database whose queue schema does not exist yet:
 * an API and two workers started at the same moment each create and migrate it from every
 * queue, worker and queue-events connection (`migrate: true`). BullMQ runs the migrations in
 * one transaction behind an advisory lock, so they are applied exactly once and every process
 * boots. Runs in both modes (it needs PostgreSQL only).
 */
describe('the PostgreSQL queue backend on a fresh database', () => {
  const prefix = `${process.env.REDIS_KEY_PREFIX}_fresh_${randomBytes(3).toString('hex')}`;
  const schema = queueSchema(prefix);
  const processes: AppProcess[] = [];
  const database = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });

  beforeAll(() => database.initialize());
  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    await database.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.destroy();
  });

  it('an API and two workers starting at once migrate the queue schema exactly once and work', async () => {
    const [{ exists }] = await database.query('SELECT to_regnamespace($1) IS NOT NULL AS exists', [
      schema,
    ]);
    expect(exists).toBe(false);
    const env = { REDIS_URL: '', REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', API_WORKERS: '1' };
    const apiPort = await freePort();
    const ready = [`http://127.0.0.1:${apiPort}/health/ready`];
    processes.push(new AppProcess('api', { ...env, PORT: String(apiPort) }));
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      processes.push(new AppProcess('worker', { ...env, WORKER_HEALTH_PORT: String(port) }));
      ready.push(`http://127.0.0.1:${port}/health/ready`);
    }
    await Promise.all(processes.map((process, i) => process.waitFor(ready[i], 200, 90_000)));

    // Ready means the queues' database answers; on a busy machine the migrations (one
    // transaction) may still be committing then, so their ledger is awaited, not assumed.
    await waitUntil(
      async () => {
        const [{ migrated }] = await database.query(
          'SELECT to_regclass($1) IS NOT NULL AS migrated',
          [`"${schema}".migration`],
        );
        return migrated as boolean;
      },
      30_000,
      'the queue schema migration ledger',
    );
    const ledger: Array<{ version: number }> = await database.query(
      `SELECT version FROM "${schema}".migration ORDER BY version`,
    );
    expect(ledger.map((row) => row.version)).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    for (const process of processes) expect(process.text).not.toMatch(/BullMQ|already exists/);

    // And the queues work: a task submitted to the API runs on one of the workers.
    const base = `http://127.0.0.1:${apiPort}/api/v1`;
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const submitted = await fetch(`${base}/tasks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({
        type: 'reports.signups',
        payload: { from: '2026-01-01', to: '2026-01-02' },
      }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const finished = await fetch(`${base}/tasks/${id}?waitMs=20000`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(((await finished.json()) as { status: string }).status).toBe('succeeded');
  }, 150_000);
});

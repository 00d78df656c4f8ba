import { DATABASE_URL_MISSING } from '@girder/config';
import {
  EmbeddedPostgres,
  embeddedPostgresUrl,
  ensureDatabaseExists,
  findRunningEmbeddedPostgres,
  runPendingMigrations,
} from '@girder/database';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createCliDataSource } from '../../ormconfig';
import { AppProcess, freePort } from '../support/app-process';

/**
 * The embedded PostgreSQL controller behind `npm start`, `npm run db:start` and `npm test`:
 * a real server from node_modules in a folder of its own.
 */
describe('embedded PostgreSQL', () => {
  const directory = join(tmpdir(), `girder-embedded-spec-${randomBytes(4).toString('hex')}`);
  const server = new EmbeddedPostgres({ directory, durable: false });

  const query = async (port: number, sql: string, database = 'postgres') => {
    const client = new Client({ connectionString: embeddedPostgresUrl(port, database) });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  afterAll(async () => {
    await server.stop().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates the cluster once, reuses a running server, and keeps its data across restarts', async () => {
    const first = await server.start();
    expect(first).toMatchObject({ reused: false, initialised: true });

    // Another process (here: another controller) finds the same server through the state file.
    const second = await new EmbeddedPostgres({ directory }).start();
    expect(second).toEqual({ port: first.port, pid: first.pid, reused: true, initialised: false });
    expect(findRunningEmbeddedPostgres(directory)).toEqual({ port: first.port, pid: first.pid });

    await query(first.port, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$hello$$)');
    await server.stop();
    expect(readFileSync(join(directory, 'postgres.log'), 'utf8')).toContain(
      'database system is shut down',
    );
    expect(findRunningEmbeddedPostgres(directory)).toBeUndefined();
    await expect(query(first.port, 'SELECT 1')).rejects.toThrow();

    const third = await server.start();
    expect(third).toMatchObject({ port: first.port, reused: false, initialised: false });
    expect(await query(third.port, 'SELECT note FROM kept')).toEqual([{ note: 'hello' }]);
  });

  it('starts again after a crash left a stale state file and a postmaster.pid whose pid was reused', async () => {
    const before = await server.start();
    process.kill(before.pid, 'SIGKILL');
    // The server's children notice their postmaster is gone and exit.
    for (let i = 0; i < 100 && childrenOf(before.pid) > 0; i++) await sleep(100);
    // The pid in postmaster.pid now names a live process that is not PostgreSQL (this one).
    const pidFile = join(directory, 'data', 'postmaster.pid');
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    writeFileSync(pidFile, [String(process.pid), ...lines.slice(1)].join('\n'));
    expect(findRunningEmbeddedPostgres(directory)).toBeUndefined();

    const after = await server.start();
    expect(after).toMatchObject({ reused: false, initialised: false });
    expect(await query(after.port, 'SELECT note FROM kept')).toEqual([{ note: 'hello' }]);
  });

  it('the apps started on their own use the running server when DATABASE_URL is not set, or say in one line what to do', async () => {
    const running = await server.start();
    const url = embeddedPostgresUrl(running.port);
    await ensureDatabaseExists(url);
    await runPendingMigrations(createCliDataSource({ ...process.env, DATABASE_URL: url }));
    const env = { DATABASE_URL: '', EMBEDDED_POSTGRES_DIR: directory, NODE_ENV: 'development' };

    const port = await freePort();
    const api = new AppProcess('api', { ...env, PORT: String(port) });
    try {
      await api.waitFor(`http://127.0.0.1:${port}/health/ready`, 200, 60_000);
    } finally {
      api.kill('SIGTERM');
      await api.exited;
    }
    // It seeded its admin into the embedded server's database.
    expect(await query(running.port, 'SELECT email FROM users', 'girder')).toEqual([
      { email: process.env.ADMIN_EMAIL },
    ]);

    await server.stop();
    const alone = new AppProcess('api', { ...env, PORT: '0' });
    expect(await alone.exited).toEqual({ code: 1, signal: null });
    expect(alone.text.trim()).toBe(`[api] ${DATABASE_URL_MISSING}`);
  }, 90_000);
});

function childrenOf(pid: number): number {
  return spawnSync('ps', ['-eo', 'ppid='], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => Number(line.trim()) === pid).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

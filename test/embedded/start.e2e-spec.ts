import { DEVELOPMENT_ADMIN_EMAIL, DEVELOPMENT_ADMIN_PASSWORD } from '@girder/config';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedPostgres } from '@girder/database';
import { freePort } from '../support/app-process';

const ROOT = resolve(__dirname, '../..');

/**
 * `npm start` with nothing configured: the real launcher (scripts/start/start.ts, apps from
 * their sources so no build is needed) starts an embedded PostgreSQL, migrates, runs both apps
 * until they are ready, prints where everything is, runs a task, and on SIGINT stops the apps,
 * then PostgreSQL. Killed outright, it leaves no app behind.
 */
describe('npm start without DATABASE_URL', () => {
  const directory = join(tmpdir(), `girder-start-spec-${randomBytes(4).toString('hex')}`);

  afterAll(async () => {
    // The second case leaves the server running, as a killed launcher does.
    await new EmbeddedPostgres({ directory }).stop().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  });

  /** The real launcher, until both apps answer ready and the banner is out. */
  async function launch() {
    const [port, workerPort] = [await freePort(), await freePort()];
    const launcher = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'scripts/start/start.ts',
        '--from-sources',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: '',
          EMBEDDED_POSTGRES_DIR: directory,
          NODE_ENV: 'development',
          PORT: String(port),
          WORKER_HEALTH_PORT: String(workerPort),
          ADMIN_EMAIL: DEVELOPMENT_ADMIN_EMAIL,
          ADMIN_PASSWORD: DEVELOPMENT_ADMIN_PASSWORD,
          LOG_LEVEL: 'info',
          LOG_PRETTY: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const run = { launcher, port, workerPort, output: '' };
    launcher.stdout.on('data', (chunk: Buffer) => (run.output += chunk.toString()));
    launcher.stderr.on('data', (chunk: Buffer) => (run.output += chunk.toString()));
    const exited = new Promise<number | null>((done) => launcher.once('exit', done));
    const deadline = Date.now() + 100_000;
    while (!(
      (await answers(port)) &&
      (await answers(workerPort)) &&
      run.output.includes('Ctrl-C stops')
    )) {
      if (Date.now() > deadline || launcher.exitCode !== null) {
        launcher.kill('SIGINT');
        throw new Error(`not ready; launcher output:\n${run.output}`);
      }
      await sleep(250);
    }
    return { ...run, exited, output: () => run.output };
  }

  it('runs both apps on an embedded PostgreSQL, prints one banner, runs a task, and stops everything on SIGINT', async () => {
    const { launcher, port, workerPort, output, exited } = await launch();
    try {
      expect(output()).toMatch(
        /\[postgres\] embedded PostgreSQL created and started on 127\.0\.0\.1:\d+/,
      );
      expect(output()).toContain('[migrate] created database girder');
      // One banner: where the API, Swagger UI and the queue dashboard are, and how to sign in.
      expect(output().match(/Girder is ready/g)).toHaveLength(1);
      expect(output()).toContain(`http://localhost:${port}/api/v1`);
      expect(output()).toContain(`http://localhost:${port}/docs`);
      expect(output()).toContain(`http://localhost:${port}/admin/queues`);
      expect(output()).toContain(`http://localhost:${workerPort}/health/ready`);
      expect(output()).toContain(`${DEVELOPMENT_ADMIN_EMAIL} / ${DEVELOPMENT_ADMIN_PASSWORD}`);
      // Not a terminal: the apps log JSON lines (LOG_PRETTY automatic).
      expect(output()).toMatch(/^\[api\]\s+\{"level":30/m);
      expect(output()).toMatch(/^\[worker\]\s+\{"level":30/m);
      expect(output()).not.toMatch(/^\[(api|worker)\] +(?![ {])/m);

      // The first thing a newcomer tries: sign in as the banner says, export the users.
      const base = `http://127.0.0.1:${port}/api/v1`;
      const login = await post(`${base}/auth/login`, {
        email: DEVELOPMENT_ADMIN_EMAIL,
        password: DEVELOPMENT_ADMIN_PASSWORD,
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const auth = { Authorization: `Bearer ${accessToken}` };
      const submitted = await post(`${base}/tasks`, { type: 'users.export', payload: {} }, auth);
      expect(submitted.status).toBe(202);
      const { id } = (await submitted.json()) as { id: string };
      const task = await (
        await fetch(`${base}/tasks/${id}?waitMs=20000`, { headers: auth })
      ).json();
      expect(task).toMatchObject({ status: 'succeeded', result: { rows: 1 } });
      const csv = await fetch(`${base}/tasks/${id}/download`, { headers: auth });
      expect(csv.status).toBe(200);
      expect(await csv.text()).toContain(DEVELOPMENT_ADMIN_EMAIL);

      const state = JSON.parse(readFileSync(join(directory, 'instance.json'), 'utf8'));
      expect(state).toEqual({ port: expect.any(Number), pid: expect.any(Number) });

      launcher.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output()).toMatch(/SIGINT received: stopping the apps[\s\S]*\[postgres\] stopped/);
      expect(readFileSync(join(directory, 'postgres.log'), 'utf8')).toContain(
        'database system is shut down',
      );
      expect(JSON.parse(readFileSync(join(directory, 'instance.json'), 'utf8'))).toEqual({
        port: state.port,
      });
    } finally {
      if (launcher.exitCode === null) {
        launcher.kill('SIGINT');
        await exited;
      }
    }
  }, 150_000);

  it('stops the apps and PostgreSQL on SIGINT even when its output has gone (npm start | tee, Ctrl-C)', async () => {
    const { launcher, exited } = await launch();
    const state = JSON.parse(readFileSync(join(directory, 'instance.json'), 'utf8'));
    // Ctrl-C stops `tee` too: the launcher's writes from then on fail (EPIPE).
    launcher.stdout.destroy();
    launcher.stderr.destroy();
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(JSON.parse(readFileSync(join(directory, 'instance.json'), 'utf8'))).toEqual({
      port: state.port,
    });
  }, 150_000);

  it('killed outright (SIGKILL), it leaves no app running: both notice and shut down', async () => {
    const { launcher, port, workerPort, exited } = await launch();
    launcher.kill('SIGKILL');
    await exited;

    const deadline = Date.now() + 30_000;
    while ((await answers(port)) || (await answers(workerPort))) {
      if (Date.now() > deadline)
        throw new Error('an app still answers 30 s after the launcher died');
      await sleep(250);
    }
  }, 150_000);
});

async function answers(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health/ready`).then(
    (response) => response.status === 200,
    () => false,
  );
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

import { DEVELOPMENT_ADMIN_EMAIL, DEVELOPMENT_ADMIN_PASSWORD } from '@girder/config';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/app-process';

const ROOT = resolve(__dirname, '../..');

/**
 * `npm start` with nothing configured: the real launcher (scripts/start/start.ts, apps from
 * their sources so no build is needed) starts an embedded PostgreSQL, migrates, runs both apps
 * until they are ready, prints where everything is, and on SIGINT stops the apps, then
 * PostgreSQL.
 */
describe('npm start without DATABASE_URL', () => {
  const directory = join(tmpdir(), `girder-start-spec-${randomBytes(4).toString('hex')}`);

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('runs both apps on an embedded PostgreSQL, prints one banner, and stops everything on SIGINT', async () => {
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
    let output = '';
    launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => launcher.once('exit', done));

    try {
      const ready = async () => {
        const statuses = await Promise.all(
          [port, workerPort].map((p) =>
            fetch(`http://127.0.0.1:${p}/health/ready`).then(
              (response) => response.status,
              () => 0,
            ),
          ),
        );
        return statuses.every((status) => status === 200) && output.includes('Ctrl-C stops');
      };
      const deadline = Date.now() + 100_000;
      while (!(await ready())) {
        if (Date.now() > deadline || launcher.exitCode !== null) {
          throw new Error(`not ready; launcher output:\n${output}`);
        }
        await new Promise((done) => setTimeout(done, 250));
      }

      expect(output).toMatch(
        /\[postgres\] embedded PostgreSQL created and started on 127\.0\.0\.1:\d+/,
      );
      expect(output).toContain('[migrate] created database girder');
      // One banner: where the API, Swagger UI and the queue dashboard are, and how to sign in.
      expect(output.match(/Girder is ready/g)).toHaveLength(1);
      expect(output).toContain(`http://localhost:${port}/api/v1`);
      expect(output).toContain(`http://localhost:${port}/docs`);
      expect(output).toContain(`http://localhost:${port}/admin/queues`);
      expect(output).toContain(`http://localhost:${workerPort}/health/ready`);
      expect(output).toContain(`${DEVELOPMENT_ADMIN_EMAIL} / ${DEVELOPMENT_ADMIN_PASSWORD}`);
      // Not a terminal: the apps log JSON lines (LOG_PRETTY automatic).
      expect(output).toMatch(/^\[api\]\s+\{"level":30/m);
      expect(output).toMatch(/^\[worker\]\s+\{"level":30/m);
      expect(output).not.toMatch(/^\[(api|worker)\] +(?![ {])/m);

      const state = JSON.parse(readFileSync(join(directory, 'instance.json'), 'utf8'));
      expect(state).toEqual({ port: expect.any(Number), pid: expect.any(Number) });

      launcher.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toMatch(/SIGINT received: stopping the apps[\s\S]*\[postgres\] stopped/);
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
});

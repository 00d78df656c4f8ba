import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../support/api-client';
import { AppProcess, type AppProcessOptions, freePort } from '../support/app-process';
import { e2eRedisUrl } from '../support/redis-mode';

/** The value a variable has in .env.example: what a user who copies it to .env runs with. */
function exampleValue(name: string): string {
  const text = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
  const match = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  if (!match) throw new Error(`${name} is not in .env.example`);
  return match[1];
}

/** The real entry points as separate processes: boot, health, shutdown and bad configuration. */
describe('app processes', () => {
  const processes: AppProcess[] = [];
  const start = (
    entry: 'api' | 'worker',
    env: Record<string, string> = {},
    options: AppProcessOptions = {},
  ): AppProcess => {
    const app = new AppProcess(entry, env, options);
    processes.push(app);
    return app;
  };
  afterAll(async () => {
    await Promise.all(processes.map((app) => app.stop()));
  });

  it('the worker serves /health/live and /health/ready on WORKER_HEALTH_PORT and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const worker = start('worker', { WORKER_HEALTH_PORT: String(port) });
    await worker.waitFor(`http://127.0.0.1:${port}/health/live`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      // The shared Redis client is checked in Redis mode only.
      info: { database: { status: 'up' }, ...(e2eRedisUrl ? { redis: { status: 'up' } } : {}) },
    });

    worker.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.text).toContain('Shutdown complete');
  });

  it('the worker reports 503 when Redis is unreachable, and stays live', async () => {
    const port = await freePort();
    const worker = start('worker', {
      WORKER_HEALTH_PORT: String(port),
      REDIS_URL: 'redis://127.0.0.1:1/0',
    });
    await worker.waitFor(`http://127.0.0.1:${port}/health/live`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { redis: { status: 'down' } },
    });
    worker.kill('SIGINT');
    expect((await worker.exited).code).toBe(0);
  });

  it('the API serves until SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const api = start('api', { PORT: String(port) });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    api.kill('SIGTERM');
    expect(await api.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  });

  it('the API logs JSON lines carrying the request id, with secrets redacted and bodies only at debug', async () => {
    const port = await freePort();
    const api = start('api', { PORT: String(port), LOG_LEVEL: 'debug' });
    await api.waitFor(`http://127.0.0.1:${port}/health/live`);
    await fetch(`http://127.0.0.1:${port}/api/v1/log-probe`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Request-ID': 'log-probe-1',
        Authorization: 'Bearer tok-secret',
      },
      body: JSON.stringify({
        email: 'x@example.com',
        password: 'hunter2-secret',
        deep: { list: [{ refreshToken: 'rt-secret' }] },
        // A users.import payload: its csv field is declared @Secret() (it carries passwords).
        payload: { csv: 'email,name,password\nx@example.com,X,csv-row-secret' },
      }),
    });
    api.kill('SIGTERM');
    await api.exited;

    const lines = api.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = lines.filter((line) => line.requestId === 'log-probe-1');
    expect(requestLines.length).toBeGreaterThan(0);
    expect(JSON.stringify(requestLines)).toContain('x@example.com'); // the body is there at debug…
    for (const secret of ['hunter2-secret', 'rt-secret', 'tok-secret', 'csv-row-secret'])
      expect(api.text).not.toContain(secret); // …without secrets
  });

  it('the request log line of a signed-in request names its user', async () => {
    const port = await freePort();
    const api = start('api', { PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await api.waitFor(`${base}/health/live`);
    const session = await new ApiClient(base).register();
    const me = await fetch(`${base}/api/v1/users/me`, {
      headers: { Authorization: `Bearer ${session.accessToken}`, 'X-Request-ID': 'log-user-1' },
    });
    expect(me.status).toBe(200);
    api.kill('SIGTERM');
    await api.exited;

    const summary = api.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.requestId === 'log-user-1' && line.res !== undefined);
    expect(summary).toMatchObject({ userId: session.user.id, res: { statusCode: 200 } });
  });

  const requests = 300;
  const flushed = (ids: Set<string>) => [...ids].filter((id) => id.startsWith('flush-'));

  /**
   * Has the API log `requests` requests while its log reader lags (this side stops reading, so
   * once the pipe is full the lines wait in the API's memory), ends it with `end`, reads again,
   * and answers the request ids of the log lines that arrived.
   */
  async function logBehindASlowReader(
    preload: string[],
    end: (api: AppProcess) => void,
  ): Promise<{ api: AppProcess; exit: Awaited<AppProcess['exited']>; ids: Set<string> }> {
    const port = await freePort();
    const api = start('api', { PORT: String(port) }, { preload });
    const base = `http://127.0.0.1:${port}`;
    await api.waitFor(`${base}/health/live`);
    api.pauseOutput();
    // Lines of some 2.5 kB (the user agent is logged): far more than the pipe holds.
    const userAgent = `slow-reader/${'x'.repeat(2_000)}`;
    await Promise.all(
      Array.from({ length: requests }, (_, n) =>
        fetch(`${base}/api/v1/no-such-route`, {
          headers: { 'X-Request-ID': `flush-${n}`, 'User-Agent': userAgent },
        }),
      ),
    );
    await fetch(`${base}/health/live`, { headers: { 'X-Request-ID': 'probe-1' } });
    await fetch(`${base}/metrics`, { headers: { 'X-Request-ID': 'scrape-1' } });
    end(api);
    await sleep(300); // the process is ending while its lines still wait
    api.resumeOutput();
    const exit = await api.exited;
    const ids = new Set(
      api.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { requestId?: string }).requestId)
        .filter((id): id is string => id !== undefined),
    );
    return { api, exit, ids };
  }

  it('writes the log asynchronously yet loses no line on SIGTERM behind a slow reader; probes and scrapes are not logged', async () => {
    const { exit, ids } = await logBehindASlowReader([], (api) => api.kill('SIGTERM'));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(flushed(ids)).toHaveLength(requests);
    expect(ids.has('probe-1')).toBe(false);
    expect(ids.has('scrape-1')).toBe(false);
  });

  it('dies of an uncaught exception without losing a line it had logged, and says why', async () => {
    const { api, exit, ids } = await logBehindASlowReader(
      ['test/support/fatal-on-sigusr2.ts'],
      (api) => api.kill('SIGUSR2'),
    );
    expect(exit).toEqual({ code: 1, signal: null });
    expect(api.text).toContain('simulated fatal error (SIGUSR2)');
    expect(flushed(ids)).toHaveLength(requests);
  });

  it('a quiet API writes a request log line within moments, without waiting for more lines or for exit', async () => {
    const port = await freePort();
    const api = start('api', { PORT: String(port) });
    await api.waitFor(`http://127.0.0.1:${port}/health/live`);
    await fetch(`http://127.0.0.1:${port}/api/v1/no-such-route`, {
      headers: { 'X-Request-ID': 'quiet-1' },
    });

    // (The output may end in a line still being written: look for the field, not whole lines.)
    const logged = () => api.text.includes('"requestId":"quiet-1"');
    // The log is written asynchronously, but a line must not wait for others to fill a buffer,
    // nor for exit (as it would with a size threshold and no timer); 2 s leaves room for a busy machine.
    const deadline = Date.now() + 2_000;
    while (!logged() && Date.now() < deadline) await sleep(25);
    expect(logged()).toBe(true);
  });

  it.each(['api', 'worker'] as const)(
    '%s refuses to start with a bad environment, naming every bad variable once',
    async (entry) => {
      const app = start(entry, {
        PORT: 'eighty',
        DATABASE_URL: 'mysql://nope',
        JWT_SECRET: 'short',
        LOG_LEVEL: 'loud',
      });
      const { code } = await app.exited;
      expect(code).toBe(1);
      const text = app.text;
      expect(text).toContain('Invalid environment: 4 variable(s) need fixing');
      for (const name of ['PORT', 'DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL'])
        expect(text).toContain(`- ${name}:`);
      expect(text).not.toMatch(/\n\s+at /); // no stack trace
    },
  );

  it.each(['api', 'worker'] as const)(
    '%s refuses to start in production with the secrets printed in .env.example',
    async (entry) => {
      const app = start(entry, {
        NODE_ENV: 'production',
        JWT_SECRET: exampleValue('JWT_SECRET'),
        ADMIN_EMAIL: exampleValue('ADMIN_EMAIL'),
        ADMIN_PASSWORD: exampleValue('ADMIN_PASSWORD'),
      });
      const { code } = await app.exited;
      expect(code).toBe(1);
      expect(app.text).toContain('Invalid environment: 2 variable(s) need fixing');
      expect(app.text).toContain('- ADMIN_PASSWORD: is a value published in this repository');
      expect(app.text).toContain('- JWT_SECRET: is a value published in this repository');
      expect(app.text).not.toContain(exampleValue('JWT_SECRET'));
    },
  );
});

import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppProcess, freePort } from '../support/app-process';
import { ADMIN, uniqueEmail } from '../support/api-client';
import { e2eRedisUrl, itWithRedis } from '../support/redis-mode';

interface Reply {
  status: number;
  body: { code?: string; accessToken?: string; refreshToken?: string; user?: { id: string } };
}

async function call(port: number, method: string, path: string, token?: string, body?: object) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** Polls until `token` is refused by the API on `port`; answers how long that took (ms). */
async function refusedWithin(port: number, token: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const reply = await call(port, 'GET', '/api/v1/users/me', token);
    if (reply.status === 401) {
      expect(reply.body.code).toBe('TOKEN_REVOKED');
      return Date.now() - started;
    }
    if (Date.now() - started > limitMs) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Revocations live in PostgreSQL (written in the revoking transaction) and in each API
 * process's memory: two real API processes, Redis emptied, a process restarted.
 */
describe('durable revocations across API processes', () => {
  let first: AppProcess;
  let second: AppProcess;
  let firstPort: number;
  let secondPort: number;
  let database: DataSource;

  const start = async (): Promise<[AppProcess, number]> => {
    const port = await freePort();
    const api = new AppProcess('api', { PORT: String(port), API_WORKERS: '1' });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    return [api, port];
  };
  const register = async (port: number) => {
    const reply = await call(port, 'POST', '/api/v1/auth/register', undefined, {
      email: uniqueEmail('revoked'),
      password: 'correct-horse-battery',
      name: 'Revoked',
    });
    expect(reply.status).toBe(201);
    return reply.body as Required<Reply['body']>;
  };

  beforeAll(async () => {
    [[first, firstPort], [second, secondPort]] = await Promise.all([start(), start()]);
    database = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
    await database.initialize();
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.destroy();
  });

  it('a logout through one process is refused by the other within 1 s', async () => {
    const session = await register(firstPort);
    expect((await call(secondPort, 'GET', '/api/v1/users/me', session.accessToken)).status).toBe(
      200,
    );
    expect((await call(firstPort, 'POST', '/api/v1/auth/logout', session.accessToken)).status).toBe(
      204,
    );
    // The revoking process itself: at once.
    expect((await call(firstPort, 'GET', '/api/v1/users/me', session.accessToken)).status).toBe(
      401,
    );
    expect(await refusedWithin(secondPort, session.accessToken, 1_000)).toBeLessThan(1_000);
  });

  it('a deactivation and a logout-all reach the other process too', async () => {
    const admin = (await call(firstPort, 'POST', '/api/v1/auth/login', undefined, ADMIN)).body;
    const deactivated = await register(firstPort);
    await call(firstPort, 'PATCH', `/api/v1/users/${deactivated.user.id}`, admin.accessToken, {
      isActive: false,
    });
    expect(await refusedWithin(secondPort, deactivated.accessToken, 1_000)).toBeLessThan(1_000);

    const everywhere = await register(secondPort);
    expect(
      (await call(secondPort, 'POST', '/api/v1/auth/logout-all', everywhere.accessToken)).status,
    ).toBe(204);
    expect(await refusedWithin(firstPort, everywhere.accessToken, 1_000)).toBeLessThan(1_000);
  });

  /** A session logged out through the first process, and its revocation row. */
  async function loggedOut() {
    const session = await register(firstPort);
    await call(firstPort, 'POST', '/api/v1/auth/logout', session.accessToken);
    const [row] = await database.query(
      'SELECT family FROM session_revocations WHERE family = (SELECT family FROM sessions WHERE user_id = $1 LIMIT 1)',
      [session.user.id],
    );
    return { session, row: row as { family: string } | undefined };
  }

  it('is recorded in PostgreSQL and refused by every process', async () => {
    const { session, row } = await loggedOut();
    expect(row).toBeDefined();
    for (const port of [firstPort, secondPort]) {
      expect((await call(port, 'GET', '/api/v1/users/me', session.accessToken)).status).toBe(401);
    }
  });

  itWithRedis('is not in Redis: emptying this run’s Redis keys changes nothing', async () => {
    const { session, row } = await loggedOut();
    const redis = new Redis(e2eRedisUrl!);
    try {
      const keys = await redis.keys(`${process.env.REDIS_KEY_PREFIX}:*`);
      expect(keys.filter((key) => key.includes(row!.family))).toEqual([]);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      await redis.quit();
    }
    for (const port of [firstPort, secondPort]) {
      expect((await call(port, 'GET', '/api/v1/users/me', session.accessToken)).status).toBe(401);
    }
  });

  it('survives a restart: a process started after the logout refuses the token, also for a deleted user', async () => {
    const admin = (await call(firstPort, 'POST', '/api/v1/auth/login', undefined, ADMIN)).body;
    const loggedOut = await register(firstPort);
    await call(firstPort, 'POST', '/api/v1/auth/logout', loggedOut.accessToken);
    const deleted = await register(firstPort);
    expect(
      (await call(firstPort, 'DELETE', `/api/v1/users/${deleted.user.id}`, admin.accessToken))
        .status,
    ).toBe(204);
    // The user's sessions are gone with the row; the revocation is not.
    expect(
      await database.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [
        deleted.user.id,
      ]),
    ).toEqual([{ n: 0 }]);

    await second.stop();
    [second, secondPort] = await start();
    for (const token of [loggedOut.accessToken, deleted.accessToken]) {
      const reply = await call(secondPort, 'GET', '/api/v1/users/me', token);
      expect(reply.status).toBe(401);
    }
  });
});

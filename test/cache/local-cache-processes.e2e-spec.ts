import Redis from 'ioredis';
import { ADMIN, uniqueEmail } from '../support/api-client';
import { AppProcess, freePort } from '../support/app-process';
import { e2eRedisUrl } from '../support/redis-mode';
import { TcpProxy } from '../support/tcp-proxy';

interface Reply {
  status: number;
  cache: string | null;
  body: { name?: string; accessToken?: string; user?: { id: string } };
}

async function call(
  port: number,
  method: string,
  path: string,
  token?: string,
  body?: object,
): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    body: text ? JSON.parse(text) : {},
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The in-process cache level (CACHE_LOCAL_MAX_ENTRIES) with two real API processes, in the mode
 * of the run: on Redis, `a` talks to Redis directly and `b` through a TCP proxy the tests cut or
 * freeze (its CACHE_REDIS_URL); on PostgreSQL alone, invalidations travel over LISTEN/NOTIFY and
 * `b` reaches PostgreSQL through the proxy (its DATABASE_URL). Every write goes through one
 * and is read back through the other at once.
 */
describe(`local cache level across API processes (${e2eRedisUrl ? 'Redis' : 'PostgreSQL-only'} mode)`, () => {
  const prefix = process.env.REDIS_KEY_PREFIX!;
  const proxied = new URL(e2eRedisUrl ?? process.env.DATABASE_URL!);
  const proxy = new TcpProxy(proxied.hostname, Number(proxied.port || (e2eRedisUrl ? 6379 : 5432)));
  const proxiedUrl = () => {
    const url = new URL(proxied);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  };
  let a: AppProcess;
  let b: AppProcess;
  let aPort: number;
  let bPort: number;
  let redis: Redis | undefined;
  let admin: string;

  const start = async (env: Record<string, string>): Promise<[AppProcess, number]> => {
    const port = await freePort();
    const api = new AppProcess('api', { PORT: String(port), API_WORKERS: '1', ...env });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    return [api, port];
  };
  const register = async (name: string) => {
    const reply = await call(aPort, 'POST', '/api/v1/auth/register', undefined, {
      email: uniqueEmail('local-cache'),
      password: 'correct-horse-battery',
      name,
    });
    expect(reply.status).toBe(201);
    return { token: reply.body.accessToken!, id: reply.body.user!.id };
  };
  const me = (port: number, token: string) => call(port, 'GET', '/api/v1/users/me', token);
  const rename = (port: number, token: string, name: string) =>
    call(port, 'PATCH', '/api/v1/users/me', token, { name });
  /** Reads until a HIT (at most 10 s), expecting `name` in every answer. */
  const untilHit = async (port: number, token: string, name: string): Promise<Reply[]> => {
    const replies: Reply[] = [];
    const deadline = Date.now() + 10_000;
    do {
      replies.push(await me(port, token));
      if (replies.at(-1)!.cache !== 'HIT') await sleep(100);
    } while (replies.at(-1)!.cache !== 'HIT' && Date.now() < deadline);
    expect(replies.map((reply) => [reply.status, reply.body.name])).toEqual(
      replies.map(() => [200, name]),
    );
    expect(replies.at(-1)!.cache).toBe('HIT');
    return replies;
  };
  /**
   * Deletes a user's cached entries in Redis behind the processes' backs (no message), so a
   * HIT after it can only come from process memory. PostgreSQL-only mode: every HIT does.
   */
  const deleteInRedisOnly = async (id: string) => {
    if (!redis) return;
    const keys = await redis.zrange(`${prefix}:cache-tag:users:${id}`, 0, -1);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys.map((key) => `${prefix}:cache:${key}`));
  };

  beforeAll(async () => {
    await proxy.start();
    if (e2eRedisUrl) redis = new Redis(e2eRedisUrl);
    [[a, aPort], [b, bPort]] = await Promise.all([
      start({}),
      start(e2eRedisUrl ? { CACHE_REDIS_URL: proxiedUrl() } : { DATABASE_URL: proxiedUrl() }),
    ]);
    const login = await call(aPort, 'POST', '/api/v1/auth/login', undefined, ADMIN);
    admin = login.body.accessToken!;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.quit();
    await proxy.stop();
  });

  it('serves repeated reads from process memory (an entry deleted only in Redis is still a HIT)', async () => {
    const user = await register('In Memory');
    expect((await me(bPort, user.token)).cache).toBe('MISS');
    expect((await me(bPort, user.token)).cache).toBe('HIT');
    await deleteInRedisOnly(user.id);
    const local = await me(bPort, user.token);
    expect([local.cache, local.body.name]).toEqual(['HIT', 'In Memory']);
    // The other process has no local copy and Redis none either.
    expect((await me(aPort, user.token)).cache).toBe('MISS');
  });

  it('a write through one process is read fresh through the other right after, both ways', async () => {
    const user = await register('Round 0');
    for (let round = 1; round <= 10; round += 1) {
      // Both processes hold the entry in memory…
      for (const port of [aPort, bPort]) await me(port, user.token);
      for (const port of [aPort, bPort]) expect((await me(port, user.token)).cache).toBe('HIT');
      // …then one writes and the other reads at once.
      const [writer, reader] = round % 2 === 0 ? [aPort, bPort] : [bPort, aPort];
      expect((await rename(writer, user.token, `Round ${round}`)).status).toBe(200);
      const fresh = await me(reader, user.token);
      expect([fresh.status, fresh.cache, fresh.body.name]).toEqual([200, 'MISS', `Round ${round}`]);
      expect((await me(writer, user.token)).body.name).toBe(`Round ${round}`);
    }
  });

  it('an admin change through one process reaches the other’s /users/:id and /me entries', async () => {
    const user = await register('Before Admin');
    for (const path of ['/api/v1/users/me', `/api/v1/users/${user.id}`]) {
      const token = path.endsWith('/me') ? user.token : admin;
      await call(bPort, 'GET', path, token);
      expect((await call(bPort, 'GET', path, token)).cache).toBe('HIT');
    }
    const patched = await call(aPort, 'PATCH', `/api/v1/users/${user.id}`, admin, {
      name: 'After Admin',
    });
    expect(patched.status).toBe(200);
    const byId = await call(bPort, 'GET', `/api/v1/users/${user.id}`, admin);
    expect([byId.cache, byId.body.name]).toEqual(['MISS', 'After Admin']);
    const own = await me(bPort, user.token);
    expect([own.cache, own.body.name]).toEqual(['MISS', 'After Admin']);
  });

  it('invalidation channel gone: local entries are dropped, so an invalidation missed meanwhile is never served', async () => {
    const user = await register('Before Cut');
    expect((await me(bPort, user.token)).cache).toBe('MISS');
    expect((await me(bPort, user.token)).cache).toBe('HIT');

    await proxy.cut();
    try {
      // Invalidated and announced; process b hears nothing of it.
      expect((await rename(aPort, user.token, 'After Cut')).status).toBe(200);
      const started = Date.now();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const reply = await me(bPort, user.token);
        if (e2eRedisUrl) {
          expect([reply.status, reply.cache, reply.body.name]).toEqual([200, 'MISS', 'After Cut']);
        } else {
          // b's PostgreSQL is cut too: a miss is a 503, and the old entry is never served.
          expect([reply.status, reply.cache]).toEqual([503, 'MISS']);
        }
      }
      expect(Date.now() - started).toBeLessThan(e2eRedisUrl ? 2_000 : 10_000);
    } finally {
      await proxy.restore();
    }
    // Back: b reads from Redis again and fills its memory, never with the old name.
    await untilHit(bPort, user.token, 'After Cut');
  });

  it('invalidation channel silent (a stalled connection, nothing closed): local entries are not served after 1 s', async () => {
    const user = await register('Before Freeze');
    expect((await me(bPort, user.token)).cache).toBe('MISS');
    expect((await me(bPort, user.token)).cache).toBe('HIT');

    proxy.freeze();
    try {
      expect((await rename(aPort, user.token, 'After Freeze')).status).toBe(200);
      // The documented bound: no answered ping for 1 s, no local entries served.
      await sleep(1_100);
      if (e2eRedisUrl) {
        const reply = await me(bPort, user.token);
        expect([reply.status, reply.cache, reply.body.name]).toEqual([200, 'MISS', 'After Freeze']);
      } else {
        // b's PostgreSQL is frozen too: a miss waits for it, a local HIT would answer at once.
        const reply = await Promise.race([
          me(bPort, user.token),
          sleep(1_000).then(() => 'waiting'),
        ]);
        expect(reply).toBe('waiting');
      }
    } finally {
      proxy.thaw();
    }
    await untilHit(bPort, user.token, 'After Freeze');
    // The held messages were delivered with the thaw and b hears Redis again (a PING every
    // 250 ms): it serves from memory again, the fresh entry only.
    await sleep(600);
    expect((await me(bPort, user.token)).body.name).toBe('After Freeze');
    await deleteInRedisOnly(user.id);
    const local = await me(bPort, user.token);
    expect([local.cache, local.body.name]).toEqual(['HIT', 'After Freeze']);
  });
});

import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Cached, CacheService } from '@girder/cache';
import Redis from 'ioredis';
import { ApiClient, type SessionBody } from '../support/api-client';
import { describeWithRedis, e2eRedisUrl } from '../support/redis-mode';
import { TcpProxy } from '../support/tcp-proxy';
import { createApiApp, withEnv } from '../support/test-app';

/** Counts its real calls, so a test can tell a cached answer from a computed one. */
@Injectable()
class PriceList {
  calls = 0;

  @Cached({ prefix: 'test.prices', ttl: 60, tags: (sku: string) => [`sku:${sku}`] })
  async price(sku: string, options: { currency: string }): Promise<{ sku: string; label: string }> {
    this.calls += 1;
    return { sku, label: `${sku} in ${options.currency} (call ${this.calls})` };
  }
}

@Module({ providers: [PriceList], exports: [PriceList] })
class PriceListModule {}

/**
 * Runs in both modes: on Redis (E2E_REDIS_URL) the checks of Redis's own keys run too; on
 * PostgreSQL alone the same behaviour is proven with the in-process level only.
 */
describe('cache', () => {
  let app: INestApplication;
  let api: ApiClient;
  let admin: SessionBody;
  /** A direct client to look at Redis's keys (Redis mode only). */
  let redis: Redis | undefined;
  const prefix = process.env.REDIS_KEY_PREFIX!;

  const redisClient = (): Redis => redis!;
  const me = (session: SessionBody) => api.get('/api/v1/users/me', session.accessToken);
  const byId = (id: string) => api.get(`/api/v1/users/${id}`, admin.accessToken);

  beforeAll(async () => {
    app = await createApiApp({ imports: [PriceListModule] });
    api = new ApiClient(app);
    admin = await api.loginAdmin();
    if (e2eRedisUrl) redis = new Redis(e2eRedisUrl);
  });
  afterAll(async () => {
    await redis?.quit();
    await app.close();
  });

  describe('@CacheResponse on GET /users/me (scope: user)', () => {
    it('answers MISS, then HIT with the same body', async () => {
      const session = await api.register({ name: 'Cached Me' });
      const first = await me(session);
      expect(first.status).toBe(200);
      expect(first.headers['x-cache']).toBe('MISS');
      const second = await me(session);
      expect(second.headers['x-cache']).toBe('HIT');
      expect(second.body).toEqual(first.body);
    });

    it('keys by caller: another user never gets the first one’s cached answer', async () => {
      const alice = await api.register({ name: 'Alice' });
      const bob = await api.register({ name: 'Bob' });
      await me(alice);
      expect((await me(alice)).headers['x-cache']).toBe('HIT');
      const bobs = await me(bob);
      expect(bobs.headers['x-cache']).toBe('MISS');
      expect(bobs.body.name).toBe('Bob');
    });

    it('PATCH /me (name) invalidates: the next read is fresh', async () => {
      const session = await api.register({ name: 'Before' });
      await me(session);
      expect((await me(session)).headers['x-cache']).toBe('HIT');
      const patched = await api.send(
        'patch',
        '/api/v1/users/me',
        { name: 'After' },
        session.accessToken,
      );
      expect(patched.status).toBe(200);
      const fresh = await me(session);
      expect(fresh.headers['x-cache']).toBe('MISS');
      expect(fresh.body.name).toBe('After');
    });

    it('PATCH /me (password) invalidates too', async () => {
      const session = await api.register({ password: 'first-password-1' });
      await me(session);
      const changed = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'second-password-2', currentPassword: 'first-password-1' },
        session.accessToken,
      );
      expect(changed.status).toBe(200);
      const fresh = await me(session);
      expect(fresh.headers['x-cache']).toBe('MISS');
      expect(Date.parse(fresh.body.updatedAt)).toBeGreaterThanOrEqual(
        Date.parse(session.user.updatedAt),
      );
    });

    it('a revoked token is refused even when the answer is cached (guards run first)', async () => {
      const session = await api.register();
      await me(session);
      expect((await me(session)).headers['x-cache']).toBe('HIT');
      expect(
        (await api.send('post', '/api/v1/auth/logout', undefined, session.accessToken)).status,
      ).toBe(204);
      const refused = await me(session);
      expect(refused.status).toBe(401);
      expect(refused.headers['x-cache']).toBeUndefined();
    });
  });

  describe('@CacheResponse on GET /users/:id (scope: public, admins only)', () => {
    it('admin PATCH (name, role) invalidates; never stale', async () => {
      const { user } = await api.register({ name: 'Target' });
      expect((await byId(user.id)).headers['x-cache']).toBe('MISS');
      expect((await byId(user.id)).headers['x-cache']).toBe('HIT');

      await api.send('patch', `/api/v1/users/${user.id}`, { name: 'Renamed' }, admin.accessToken);
      const renamed = await byId(user.id);
      expect(renamed.headers['x-cache']).toBe('MISS');
      expect(renamed.body.name).toBe('Renamed');

      await byId(user.id);
      await api.send('patch', `/api/v1/users/${user.id}`, { role: 'admin' }, admin.accessToken);
      expect((await byId(user.id)).body.role).toBe('admin');
    });

    it('deactivation invalidates both /:id and the user’s own /me entry', async () => {
      const session = await api.register();
      const id = session.user.id;
      await me(session);
      await byId(id);
      expect((await byId(id)).headers['x-cache']).toBe('HIT');
      await api.send('patch', `/api/v1/users/${id}`, { isActive: false }, admin.accessToken);
      const after = await byId(id);
      expect(after.headers['x-cache']).toBe('MISS');
      expect(after.body.isActive).toBe(false);
      // The old /me entry is gone too.
      expect((await me(session)).status).toBe(401); // deactivated: refused, not a cached 200
      if (!redis) return;
      expect(await redis.exists(`${prefix}:cache-tag:users:${id}`)).toBe(1);
      const keys = await redis.zrange(`${prefix}:cache-tag:users:${id}`, 0, -1);
      // Only the fresh /:id entry is left under the user's tag; the old /me entry is gone.
      expect(keys).toHaveLength(1);
    });

    it('deletion invalidates: the deleted user is 404, not a cached 200', async () => {
      const { user } = await api.register();
      await byId(user.id);
      expect((await byId(user.id)).headers['x-cache']).toBe('HIT');
      expect(
        (await api.send('delete', `/api/v1/users/${user.id}`, undefined, admin.accessToken)).status,
      ).toBe(204);
      const gone = await byId(user.id);
      expect(gone.status).toBe(404);
      expect((await byId(user.id)).status).toBe(404);
    });

    it('a non-admin is refused even when the answer is cached', async () => {
      const { user } = await api.register();
      await byId(user.id);
      expect((await byId(user.id)).headers['x-cache']).toBe('HIT');
      const member = await api.register();
      expect((await api.get(`/api/v1/users/${user.id}`, member.accessToken)).status).toBe(403);
    });
  });

  describe('@Cached on a provider method', () => {
    it('caches by argument values, and invalidates by tag and by prefix', async () => {
      const prices = app.get(PriceList);
      const cache = app.get(CacheService);
      const first = await prices.price('sku-1', { currency: 'EUR' });
      expect(await prices.price('sku-1', { currency: 'EUR' })).toEqual(first);
      expect(prices.calls).toBe(1);

      await prices.price('sku-1', { currency: 'USD' });
      await prices.price('sku-2', { currency: 'EUR' });
      expect(prices.calls).toBe(3);

      await cache.invalidateTags(['sku:sku-1']);
      await prices.price('sku-1', { currency: 'EUR' });
      await prices.price('sku-2', { currency: 'EUR' });
      expect(prices.calls).toBe(4);

      await cache.invalidatePrefix('test.prices');
      await prices.price('sku-2', { currency: 'EUR' });
      expect(prices.calls).toBe(5);
    });
  });

  describe('keys come from what the route declares, and tag indexes stay bounded', () => {
    /** The entries under a user's tag in Redis; PostgreSQL-only mode has none to count. */
    const expectEntries = async (id: string, count: number) => {
      if (redis)
        expect(await redis.zrange(`${prefix}:cache-tag:users:${id}`, 0, -1)).toHaveLength(count);
    };

    it('undeclared query parameters make no new entries: /me?x=1, ?x=2, … share one', async () => {
      const session = await api.register();
      expect((await me(session)).headers['x-cache']).toBe('MISS');
      for (let n = 1; n <= 20; n += 1) {
        const response = await api.get(
          `/api/v1/users/me?x=${n}&cachebust=${n}`,
          session.accessToken,
        );
        expect(response.status).toBe(200);
        expect(response.headers['x-cache']).toBe('HIT');
      }
      await expectEntries(session.user.id, 1);
    });

    it('an upper-case UUID is the same entry and tag as the lower-case one: never served stale', async () => {
      const { user } = await api.register({ name: 'Case' });
      const upper = user.id.toUpperCase();
      expect((await byId(upper)).headers['x-cache']).toBe('MISS');
      expect((await byId(user.id)).headers['x-cache']).toBe('HIT');
      await api.send(
        'patch',
        `/api/v1/users/${user.id}`,
        { name: 'Case Renamed' },
        admin.accessToken,
      );
      const fresh = await byId(upper);
      expect(fresh.headers['x-cache']).toBe('MISS');
      expect(fresh.body.name).toBe('Case Renamed');
      // Written through the upper-case spelling, read through the lower-case one: still fresh.
      await api.send('patch', `/api/v1/users/${upper}`, { name: 'Case Again' }, admin.accessToken);
      expect((await byId(user.id)).body.name).toBe('Case Again');
      await expectEntries(user.id, 1);
    });
  });

  describeWithRedis('tag indexes in Redis', () => {
    it('a tag index drops members whose entries have expired', async () => {
      const redis = redisClient();
      const cache = app.get(CacheService);
      const tag = `bounded:${Date.now()}`;
      for (let n = 0; n < 50; n += 1)
        await cache.set(`test.bounded:${n}`, n, { ttl: 1, tags: [tag] });
      expect(await redis.zcard(`${prefix}:cache-tag:${tag}`)).toBe(50);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await cache.set('test.bounded:last', 'last', { ttl: 60, tags: [tag] });
      expect(await redis.zrange(`${prefix}:cache-tag:${tag}`, 0, -1)).toEqual([
        'test.bounded:last',
      ]);
    });
  });

  describeWithRedis('isolation', () => {
    it('writes only under <prefix>:cache and <prefix>:cache-tag, and invalidation leaves other keys alone', async () => {
      const redis = redisClient();
      const bystanders = [`${prefix}:queue:reports:id`, `${prefix}:throttle:x`, 'not-girder:key'];
      for (const key of bystanders) await redis.set(key, 'keep', 'EX', 60);
      const session = await api.register();
      await me(session);
      const [key] = await redis.zrange(`${prefix}:cache-tag:users:${session.user.id}`, 0, -1);
      expect(await redis.exists(`${prefix}:cache:${key}`)).toBe(1);

      await app.get(CacheService).invalidateTags([`users:${session.user.id}`]);
      expect(await redis.exists(`${prefix}:cache:${key}`)).toBe(0);
      for (const bystander of bystanders) expect(await redis.get(bystander)).toBe('keep');
      await redis.del('not-girder:key');
    });
  });

  describeWithRedis('round trips of a cached read', () => {
    it('a signed-in cached read makes one Redis round trip, the rate limit’s: the session check and the answer come from memory', async () => {
      // A prefix of its own: every command naming it comes from this app, not from other suites.
      const ownPrefix = `${prefix}_round_trips`;
      const own = await withEnv({ REDIS_KEY_PREFIX: ownPrefix }, () => createApiApp());
      const watcher = new Redis(e2eRedisUrl!);
      const monitor = await watcher.monitor(); // a connection of its own
      try {
        const client = new ApiClient(own);
        const session = await client.register();
        const read = () => client.get('/api/v1/users/me', session.accessToken);
        expect((await read()).headers['x-cache']).toBe('MISS');

        const commands: string[][] = [];
        const marker = `${ownPrefix}:end-of-reads`;
        let markerSeen!: () => void;
        const markerReported = new Promise<void>((done) => (markerSeen = done));
        monitor.on('monitor', (_time: string, args: string[], source: string) => {
          if (args.includes(marker)) return markerSeen();
          // What a script runs inside Redis is reported too, from "lua": not a round trip.
          if (source !== 'lua' && args.some((arg) => arg.includes(ownPrefix)))
            commands.push(args.map((arg) => (arg.length > 100 ? `${arg.slice(0, 40)}…` : arg)));
        });
        const reads = 10;
        for (let n = 0; n < reads; n += 1) {
          const response = await read();
          expect(response.status).toBe(200);
          expect(response.headers['x-cache']).toBe('HIT');
        }
        // MONITOR reports commands in the order Redis ran them: once this one is reported, every
        // command of the reads above has been.
        await redisClient().get(marker);
        await markerReported;

        expect(commands).toHaveLength(reads);
        for (const [command, ...args] of commands) {
          expect(command.toLowerCase()).toMatch(/^eval(sha)?$/);
          expect(args.join(' ')).toContain(`${ownPrefix}:throttle`);
        }
      } finally {
        monitor.disconnect();
        await watcher.quit();
        await own.close();
      }
    });
  });

  describe('CACHE_ENABLED=false', () => {
    it('answers every read from the database and stores nothing', async () => {
      const uncached = await withEnv({ CACHE_ENABLED: 'false' }, () => createApiApp());
      try {
        const client = new ApiClient(uncached);
        const session = await client.register();
        for (let attempt = 0; attempt < 2; attempt += 1) {
          const response = await client.get('/api/v1/users/me', session.accessToken);
          expect(response.status).toBe(200);
          expect(response.headers['x-cache']).toBe('MISS');
        }
        if (redis)
          expect(await redis.exists(`${prefix}:cache-tag:users:${session.user.id}`)).toBe(0);
      } finally {
        await uncached.close();
      }
    });
  });

  describeWithRedis('Redis for the cache unreachable', () => {
    it('requests are still served from the database (the cache is bypassed)', async () => {
      const offline = await withEnv({ CACHE_REDIS_URL: 'redis://127.0.0.1:1/0' }, () =>
        createApiApp(),
      );
      try {
        const client = new ApiClient(offline);
        const session = await client.register({ name: 'Offline Cache' });
        for (let attempt = 0; attempt < 3; attempt += 1) {
          const response = await client.get('/api/v1/users/me', session.accessToken);
          expect(response.status).toBe(200);
          expect(response.body.email).toBe(session.user.email);
          expect(response.headers['x-cache']).toBe('MISS');
        }
        const renamed = await client.send(
          'patch',
          '/api/v1/users/me',
          { name: 'Renamed while the cache is down' },
          session.accessToken,
        );
        expect(renamed.status).toBe(200);
        expect(renamed.body.name).toBe('Renamed while the cache is down');
      } finally {
        await offline.close();
      }
    });

    it('a cut connection bypasses the cache at once, and the cache is used again after it returns', async () => {
      const url = new URL(process.env.REDIS_URL!);
      const proxy = new TcpProxy(url.hostname, Number(url.port || 6379));
      await proxy.start();
      const proxied = await withEnv(
        { CACHE_REDIS_URL: `redis://127.0.0.1:${proxy.port}${url.pathname}` },
        () => createApiApp(),
      );
      try {
        const client = new ApiClient(proxied);
        const session = await client.register({ name: 'Flaky Cache' });
        const read = () => client.get('/api/v1/users/me', session.accessToken);
        expect((await read()).headers['x-cache']).toBe('MISS');
        expect((await read()).headers['x-cache']).toBe('HIT');

        await proxy.cut();
        const started = Date.now();
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const response = await read();
          expect(response.status).toBe(200);
          expect(response.headers['x-cache']).toBe('MISS');
        }
        // Never queued behind the outage: five reads cost no more than one command timeout.
        expect(Date.now() - started).toBeLessThan(2_000);

        await proxy.restore();
        const deadline = Date.now() + 10_000;
        let cache = (await read()).headers['x-cache'];
        while (cache !== 'HIT' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          cache = (await read()).headers['x-cache'];
        }
        expect(cache).toBe('HIT');
      } finally {
        await proxied.close();
        await proxy.stop();
      }
    });
  });
});

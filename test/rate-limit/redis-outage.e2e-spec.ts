import { Logger, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import type { AppConfig } from '@girder/config';
import { WorkerHealthServer } from '@girder/health';
import { RedisRateLimitStorage } from '@girder/rate-limit';
import { RedisKeys } from '@girder/redis';
import Redis from 'ioredis';
import request from 'supertest';
import { ApiClient, uniqueEmail, type SessionBody } from '../support/api-client';
import { sample } from '../support/prometheus';
import { TcpProxy } from '../support/tcp-proxy';
import { describeWithRedis } from '../support/redis-mode';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';

/** Counters and queues of this file only. */
const PREFIX = `${process.env.REDIS_KEY_PREFIX}_redis_outage`;
const LIMIT = 3;
const SWITCHED = 'Rate limit counters in Redis (counted in process memory meanwhile) unavailable';
const RECOVERED =
  'Rate limit counters in Redis (counted in process memory meanwhile) available again';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A storage of its own on `redisUrl`, as RateLimitModule builds it. */
async function storageOn(redisUrl: string): Promise<RedisRateLimitStorage> {
  const values: Record<string, string> = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: PREFIX };
  const config = { get: (name: string) => values[name] } as unknown as AppConfig;
  const storage = new RedisRateLimitStorage(config, new RedisKeys(config));
  await storage.onModuleInit();
  return storage;
}

describeWithRedis('the in-memory counters answer like the Redis script', () => {
  let redis: RedisRateLimitStorage;
  let memory: RedisRateLimitStorage;
  beforeAll(async () => {
    redis = await storageOn(process.env.REDIS_URL!);
    memory = await storageOn('redis://127.0.0.1:1/0');
  });
  afterAll(() => {
    redis.onApplicationShutdown();
    memory.onApplicationShutdown();
  });

  /** The same hits on both storages; their answers side by side. */
  const both = async (key: string, ttl: number, limit: number, block: number, times = 1) => {
    const answers = [];
    for (let i = 0; i < times; i += 1) {
      answers.push([
        await redis.increment(key, ttl, limit, block, 'default'),
        await memory.increment(key, ttl, limit, block, 'default'),
      ]);
    }
    return answers;
  };

  it('same totals, blocks and times: through a limit, a block shorter than the window, a new window', async () => {
    const key = `equivalence:${uniqueEmail()}`;
    const answers = [
      ...(await both(key, 3_000, 2, 1_000, 4)),
      ...(await sleep(1_100).then(() => both(key, 3_000, 2, 1_000))), // blocked again
      ...(await sleep(2_000).then(() => both(key, 3_000, 2, 1_000, 2))), // new window
      ...(await both(`${key}:other`, 3_000, 2, 1_000)),
    ];
    expect(redis.degraded).toBe(false);
    expect(memory.degraded).toBe(true);
    for (const [fromRedis, fromMemory] of answers) expect(fromMemory).toEqual(fromRedis);
    expect(answers.map(([fromRedis]) => [fromRedis.totalHits, fromRedis.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, true],
      [5, true],
      [1, false],
      [2, false],
      [1, false],
    ]);
  });
});

/**
 * Redis unreachable (a proxy in front of the shared Redis is cut, then restored): the API keeps
 * serving, rate limits are counted in process memory meanwhile and go back to Redis when it
 * returns; the API stays ready (Redis listed as down), the worker does not; both show it in
 * their metrics.
 */
describeWithRedis('Redis outage: rate limits in memory, readiness and metrics', () => {
  let proxy: TcpProxy;
  let app: INestApplication;
  let worker: INestApplicationContext;
  let api: ApiClient;
  let direct: Redis;
  let session: SessionBody;
  const warnings = jest.spyOn(Logger.prototype, 'warn');
  const infos = jest.spyOn(Logger.prototype, 'log');
  const logged = (spy: jest.SpyInstance, text: string) =>
    spy.mock.calls.filter(([message]) => String(message).startsWith(text)).length;

  const login = (email: string, password = 'wrong-password') =>
    request(app.getHttpServer()).post('/api/v1/auth/login').send({ email, password });
  const scrape = async () => (await request(app.getHttpServer()).get('/metrics')).text;
  const workerGet = (path: string) =>
    fetch(`http://127.0.0.1:${worker.get(WorkerHealthServer).port!}${path}`);
  /** The counters the shared Redis holds for password attempts by `email`. */
  const loginKeysInRedis = (email: string) => direct.keys(`${PREFIX}:throttle:*${email}*`);

  beforeAll(async () => {
    // Only this app's switches count (the suite above logs one of its own).
    warnings.mockClear();
    infos.mockClear();
    const redisUrl = new URL(process.env.REDIS_URL!);
    direct = new Redis(process.env.REDIS_URL!);
    proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    redisUrl.port = String(await proxy.start());
    const env = {
      REDIS_URL: redisUrl.toString(),
      REDIS_KEY_PREFIX: PREFIX,
      LOGIN_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      REGISTER_RATE_LIMIT_PER_MINUTE: String(LIMIT),
    };
    app = await withEnv(env, () => createApiApp());
    worker = await withEnv(env, () => createWorkerApp());
    api = new ApiClient(app);
    session = await api.register({ password: 'the-right-password' });
  });
  afterAll(async () => {
    await proxy.restore();
    await worker?.close();
    await app?.close();
    await proxy.stop();
    const keys = await direct.keys(`${PREFIX}:*`);
    if (keys.length > 0) await direct.del(...keys);
    direct.disconnect();
    warnings.mockRestore();
    infos.mockRestore();
  });

  it('Redis up: counted in Redis; ready; girder_dependency_up 1 and girder_degraded 0', async () => {
    const email = uniqueEmail('before');
    expect((await login(email)).status).toBe(401);
    expect(await loginKeysInRedis(email)).toHaveLength(1);

    const ready = await request(app.getHttpServer()).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' }, queues: { status: 'up' } },
    });
    const metrics = await scrape();
    for (const dependency of ['database', 'redis', 'queues'])
      expect(sample(metrics, 'girder_dependency_up', { dependency })).toBe(1);
    expect(sample(metrics, 'girder_degraded', { dependency: 'rate_limit_redis' })).toBe(0);
    expect(logged(warnings, SWITCHED)).toBe(0);
  });

  describe('Redis cut', () => {
    beforeAll(() => proxy.cut());

    it('login keeps working and is still limited: the 4th attempt in a minute is 429 from the memory counter, at once', async () => {
      const email = uniqueEmail('during');
      for (let attempt = 1; attempt <= LIMIT; attempt += 1) {
        const started = Date.now();
        const response = await login(email);
        expect(response.status).toBe(401);
        expect(response.headers['ratelimit-remaining']).toBe(String(LIMIT - attempt));
        expect(Date.now() - started).toBeLessThan(1_000);
      }
      const limited = await login(email);
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(await loginKeysInRedis(email)).toHaveLength(0);

      // Another email has its own budget, and the right password logs in.
      const right = await login(session.user.email, 'the-right-password');
      expect(right.status).toBe(200);
      // The switch is logged once, however many requests were counted in memory.
      expect(logged(warnings, SWITCHED)).toBe(1);
    });

    it('register keeps working and is still limited per IP: the 4th sign-up in a minute is 429 from memory', async () => {
      const register = () =>
        request(app.getHttpServer())
          .post('/api/v1/auth/register')
          .send({ email: uniqueEmail('signup'), password: 'signup-password', name: 'Sign Up' });
      const statuses: number[] = [];
      for (let attempt = 0; attempt <= LIMIT; attempt += 1) {
        const started = Date.now();
        statuses.push((await register()).status);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      // The sign-up before the cut counted in Redis; memory counts from the cut on.
      expect(statuses).toEqual([201, 201, 201, 429]);
    });

    it('an authenticated read is served (GET /users/me)', async () => {
      const started = Date.now();
      const me = await api.get('/api/v1/users/me', session.accessToken);
      expect({ status: me.status, id: me.body.id }).toEqual({ status: 200, id: session.user.id });
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('the API stays ready (200) with Redis listed as down; the worker is not ready (503)', async () => {
      const ready = await request(app.getHttpServer()).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ok',
        info: { database: { status: 'up' } },
        error: { redis: { status: 'down' } },
        details: { database: { status: 'up' }, redis: { status: 'down' } },
      });

      const workerReady = await workerGet('/health/ready');
      expect(workerReady.status).toBe(503);
      expect(await workerReady.json()).toMatchObject({
        status: 'error',
        info: { database: { status: 'up' } },
        error: { queues: { status: 'down' } },
      });
      expect((await workerGet('/health/live')).status).toBe(200);
    });

    it('the metrics show the degraded dependency', async () => {
      const metrics = await scrape();
      expect(sample(metrics, 'girder_degraded', { dependency: 'rate_limit_redis' })).toBe(1);
      expect(sample(metrics, 'girder_dependency_up', { dependency: 'redis' })).toBe(0);
      expect(sample(metrics, 'girder_dependency_up', { dependency: 'database' })).toBe(1);
      expect(sample(metrics, 'girder_rate_limit_memory_hits_total')).toBeGreaterThanOrEqual(
        LIMIT + 1,
      );

      const workerMetrics = await (await workerGet('/metrics')).text();
      expect(sample(workerMetrics, 'girder_dependency_up', { dependency: 'queues' })).toBe(0);
      expect(sample(workerMetrics, 'girder_dependency_up', { dependency: 'database' })).toBe(1);
    });
  });

  describe('Redis back', () => {
    beforeAll(() => proxy.restore());

    it('switches back to Redis (logged once), and the worker is ready again', async () => {
      let degraded: number | undefined = 1;
      for (let deadline = Date.now() + 10_000; Date.now() < deadline && degraded !== 0;) {
        await sleep(200);
        degraded = sample(await scrape(), 'girder_degraded', { dependency: 'rate_limit_redis' });
      }
      expect(degraded).toBe(0);
      expect(logged(infos, RECOVERED)).toBe(1);
      expect(logged(warnings, SWITCHED)).toBe(1);

      const email = uniqueEmail('after');
      expect((await login(email)).status).toBe(401);
      expect(await loginKeysInRedis(email)).toHaveLength(1);

      const ready = await request(app.getHttpServer()).get('/health/ready');
      expect(ready.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
      let workerStatus = 0;
      for (let deadline = Date.now() + 10_000; Date.now() < deadline && workerStatus !== 200;) {
        workerStatus = (await workerGet('/health/ready')).status;
        if (workerStatus !== 200) await sleep(200);
      }
      expect(workerStatus).toBe(200);
    });
  });
});

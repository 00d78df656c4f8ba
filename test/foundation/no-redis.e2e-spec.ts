import { ApiClient } from '../support/api-client';
import { AppProcess, freePort } from '../support/app-process';
import { sample } from '../support/prometheus';
import { e2eRedisUrl } from '../support/redis-mode';

const TRIPWIRE = { preload: ['test/support/redis-tripwire.ts'] };

/**
 * PostgreSQL-only mode (REDIS_URL unset): the real API and worker processes boot, serve and
 * stop without creating a single Redis client or opening a socket to a Redis port. Each runs
 * with a preload (`redis-tripwire.ts`) that reports every ioredis client created
 * and every connection to port 6379 (a Redis server listens there on CI, so an attempt would
 * also succeed silently: only the tripwire tells). Runs whatever mode the suite is in.
 */
describe('PostgreSQL-only mode opens no Redis connection', () => {
  const env = (extra: Record<string, string>) => ({
    REDIS_URL: '',
    CACHE_REDIS_URL: '',
    ...extra,
  });

  it('the API: ready with PostgreSQL alone, no redis check or metric, no Redis client or socket', async () => {
    const port = await freePort();
    const api = new AppProcess('api', env({ PORT: String(port), API_WORKERS: '1' }), TRIPWIRE);
    try {
      await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
        status: string;
        details: Record<string, unknown>;
      };
      expect(ready.status).toBe('ok');
      expect(ready.details).toHaveProperty('database');
      expect(ready.details).not.toHaveProperty('redis');
      // Traffic through the cache, the rate limiter and an invalidation.
      const { accessToken } = await new ApiClient(`http://127.0.0.1:${port}`).register();
      const headers = { Authorization: `Bearer ${accessToken}` };
      const me = () => fetch(`http://127.0.0.1:${port}/api/v1/users/me`, { headers });
      expect((await me()).headers.get('x-cache')).toBe('MISS');
      expect((await me()).headers.get('x-cache')).toBe('HIT');
      const renamed = await fetch(`http://127.0.0.1:${port}/api/v1/users/me`, {
        method: 'PATCH',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Still No Redis' }),
      });
      expect(renamed.status).toBe(200);
      const fresh = await me();
      expect([
        fresh.headers.get('x-cache'),
        ((await fresh.json()) as { name: string }).name,
      ]).toEqual(['MISS', 'Still No Redis']);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(sample(metrics, 'girder_dependency_up', { dependency: 'database' })).toBe(1);
      expect(sample(metrics, 'girder_dependency_up', { dependency: 'redis' })).toBeUndefined();
      expect(
        sample(metrics, 'girder_degraded', { dependency: 'rate_limit_redis' }),
      ).toBeUndefined();
    } finally {
      await api.stop();
    }
    expect(api.text).not.toMatch(/REDIS-TRIPWIRE/);
    expect(api.text).not.toMatch(/ECONNREFUSED.*6379|Redis .*down/i);
  });

  it('the worker: ready with PostgreSQL alone, no Redis client or socket', async () => {
    const port = await freePort();
    const worker = new AppProcess('worker', env({ WORKER_HEALTH_PORT: String(port) }), TRIPWIRE);
    try {
      await worker.waitFor(`http://127.0.0.1:${port}/health/ready`);
    } finally {
      await worker.stop();
    }
    expect(worker.text).not.toMatch(/REDIS-TRIPWIRE/);
  });

  // The tripwire itself: with REDIS_URL set it does report (Redis mode only).
  (e2eRedisUrl ? it : it.skip)(
    'the tripwire reports a Redis client when REDIS_URL is set',
    async () => {
      const port = await freePort();
      const api = new AppProcess(
        'api',
        { ...env({ PORT: String(port), API_WORKERS: '1' }), REDIS_URL: e2eRedisUrl! },
        TRIPWIRE,
      );
      try {
        await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
      } finally {
        await api.stop();
      }
      expect(api.text).toMatch(/REDIS-TRIPWIRE ioredis client created/);
      expect(api.text).toMatch(/REDIS-TRIPWIRE socket to port 6379/);
    },
  );
});

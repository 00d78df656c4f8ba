import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { WorkerHealthServer } from '@girder/health';
import request from 'supertest';
import { ApiClient, type SessionBody } from '../support/api-client';
import { sample } from '../support/prometheus';
import { e2eRedisUrl } from '../support/redis-mode';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';
import { TestTaskTypesModule } from '../tasks/test-task-types';

/** Queues of this file only. */
const ENV = { REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_metrics` };

describe('metrics', () => {
  let app: INestApplication;
  let worker: INestApplicationContext;
  let api: ApiClient;
  let admin: SessionBody;

  beforeAll(async () => {
    app = await withEnv(ENV, () => createApiApp({ imports: [TestTaskTypesModule] }));
    worker = await withEnv(ENV, () => createWorkerApp([TestTaskTypesModule]));
    api = new ApiClient(app);
    admin = await api.loginAdmin();
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
  });

  it('METRICS_TOKEN unset: GET /metrics is public and shows the request histogram by method, route template and status after traffic', async () => {
    const session = await api.register();
    await api.get('/api/v1/users/me', session.accessToken);
    await api.get('/api/v1/users/me');
    await api.get(`/api/v1/users/${session.user.id}`, admin.accessToken);
    await api.get('/api/v1/no-such-route');

    const response = await request(app.getHttpServer()).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.text;
    const count = (route: string, status: string) =>
      sample(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        route,
        status_code: status,
      });
    expect(count('/api/v1/users/me', '200')).toBeGreaterThanOrEqual(1);
    expect(count('/api/v1/users/me', '401')).toBeGreaterThanOrEqual(1);
    // The template, never the id: one series for every user.
    expect(count('/api/v1/users/:id', '200')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(session.user.id);
    expect(count('unmatched', '404')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005"');
    expect(text).toContain('process_cpu_user_seconds_total');
    // Dependencies: up per readiness check (run at scrape time); nothing degraded. Without
    // Redis there is no redis check and no rate-limit degradation to report (a mode, not an outage).
    for (const dependency of ['database', 'queues'])
      expect(sample(text, 'girder_dependency_up', { dependency })).toBe(1);
    const redisMode = Boolean(e2eRedisUrl);
    expect(sample(text, 'girder_dependency_up', { dependency: 'redis' })).toBe(
      redisMode ? 1 : undefined,
    );
    expect(sample(text, 'girder_degraded', { dependency: 'rate_limit_redis' })).toBe(
      redisMode ? 0 : undefined,
    );
    for (const queue of ['users', 'reports', 'email']) {
      expect(sample(text, 'girder_queue_jobs', { queue, state: 'waiting' })).toBeGreaterThanOrEqual(
        0,
      );
    }
  });

  it('the worker serves its metrics (task outcomes per queue) on its health port', async () => {
    const submitted = await api.send(
      'post',
      '/api/v1/tasks',
      { type: 'test.slow', payload: { ms: 0 } },
      admin.accessToken,
    );
    expect(submitted.status).toBe(202);
    const done = await api.get(
      `/api/v1/tasks/${submitted.body.id}?waitMs=10000`,
      admin.accessToken,
    );
    expect(done.body.status).toBe('succeeded');

    const port = worker.get(WorkerHealthServer).port!;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(
      sample(text, 'girder_task_runs_total', {
        queue: 'reports',
        type: 'test.slow',
        outcome: 'succeeded',
      }),
    ).toBe(1);
    expect(text).toContain('service="worker"');
    expect(sample(text, 'girder_dependency_up', { dependency: 'queues' })).toBe(1);
  });

  describe('METRICS_TOKEN set: /metrics answers only Authorization: Bearer <METRICS_TOKEN>', () => {
    const TOKEN = 'e2e-metrics-token-0123456789abcdef';
    let guardedApp: INestApplication;
    let guardedWorker: INestApplicationContext;

    beforeAll(async () => {
      const env = { ...ENV, METRICS_TOKEN: TOKEN };
      guardedApp = await withEnv(env, () => createApiApp());
      guardedWorker = await withEnv(env, () => createWorkerApp());
    });
    afterAll(async () => {
      await guardedWorker?.close();
      await guardedApp?.close();
    });

    const apiScrape = (authorization?: string) => {
      const call = request(guardedApp.getHttpServer()).get('/metrics');
      return authorization === undefined ? call : call.set('Authorization', authorization);
    };
    const workerScrape = (authorization?: string) =>
      fetch(`http://127.0.0.1:${guardedWorker.get(WorkerHealthServer).port!}/metrics`, {
        headers: authorization === undefined ? {} : { Authorization: authorization },
      });
    const expectRefused = (
      status: number,
      headers: (name: string) => string | null | undefined,
      body: Record<string, unknown>,
    ) => {
      expect(status).toBe(401);
      expect(headers('content-type')).toContain('application/problem+json');
      expect(headers('www-authenticate')).toMatch(/^Bearer\b/);
      expect(body).toMatchObject({
        type: '/problems/unauthenticated',
        status: 401,
        code: 'UNAUTHENTICATED',
        instance: '/metrics',
      });
      expect(body.requestId).toEqual(expect.any(String));
      expect(JSON.stringify(body)).not.toContain('http_request_duration_seconds');
    };

    it("the API: anonymous, a wrong token and a user's access token get 401; the token gets the metrics", async () => {
      for (const authorization of [
        undefined,
        `Bearer ${TOKEN.slice(0, -1)}x`,
        `Bearer ${TOKEN}-and-more`,
        `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}`,
        TOKEN,
        `Bearer ${admin.accessToken}`,
      ]) {
        const response = await apiScrape(authorization);
        expectRefused(response.status, (name) => response.headers[name], response.body);
      }

      const scraped = await apiScrape(`Bearer ${TOKEN}`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers['content-type']).toContain('text/plain');
      expect(scraped.text).toContain('http_request_duration_seconds_count');
      expect(scraped.text).toContain('service="api"');
      // The scheme is case-insensitive (RFC 9110).
      expect((await apiScrape(`bearer ${TOKEN}`)).status).toBe(200);
      // Health probes stay public.
      expect((await request(guardedApp.getHttpServer()).get('/health/live')).status).toBe(200);
    });

    it("the worker's health port: the same 401 problem without the token, the metrics with it", async () => {
      for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, TOKEN]) {
        const response = await workerScrape(authorization);
        const body = (await response.json()) as Record<string, unknown>;
        expectRefused(response.status, (name) => response.headers.get(name), body);
      }

      const scraped = await workerScrape(`Bearer ${TOKEN}`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toContain('text/plain');
      expect(await scraped.text()).toContain('service="worker"');
      const port = guardedWorker.get(WorkerHealthServer).port!;
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    });
  });
});

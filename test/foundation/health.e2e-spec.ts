import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ApiClient } from '../support/api-client';
import { e2eRedisUrl } from '../support/redis-mode';
import { TcpProxy } from '../support/tcp-proxy';
import { createApiApp, withEnv } from '../support/test-app';

/** What readiness lists besides PostgreSQL: the shared Redis client, in Redis mode only. */
const redisInfo = e2eRedisUrl ? { redis: { status: 'up' } } : {};

describe('health (API)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApiApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('GET /health/live answers 200 outside /api/v1', async () => {
    const response = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
    await request(app.getHttpServer()).get('/api/v1/health/live').expect(404);
  });

  it('the probes answer a signed-in caller too (they skip the request logger, which tags users)', async () => {
    const { accessToken } = await new ApiClient(app).register();
    for (const probe of ['/health/live', '/health/ready']) {
      await request(app.getHttpServer())
        .get(probe)
        .set('Authorization', `Bearer ${accessToken}`)
        .expect(200);
    }
  });

  it('GET /health/ready reports PostgreSQL (and Redis, when configured) up', async () => {
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, ...redisInfo },
    });
    // PostgreSQL-only mode: no redis check at all (a mode, not an outage).
    if (!e2eRedisUrl) expect(response.body.details).not.toHaveProperty('redis');
  });

  it('GET /health/ready stays 200 when Redis is unreachable (degraded), listing Redis as down', async () => {
    const degraded = await withEnv({ REDIS_URL: 'redis://127.0.0.1:1/0' }, () => createApiApp());
    try {
      const response = await request(degraded.getHttpServer()).get('/health/ready').expect(200);
      expect(response.body).toMatchObject({
        status: 'ok',
        info: { database: { status: 'up' } },
        error: { redis: { status: 'down' } },
        details: { database: { status: 'up' }, redis: { status: 'down' } },
      });
      await request(degraded.getHttpServer()).get('/health/live').expect(200);
    } finally {
      await degraded.close();
    }
  });

  it('GET /health/ready answers 503 in the terminus shape when PostgreSQL is unreachable', async () => {
    const database = new URL(process.env.DATABASE_URL!);
    const proxy = new TcpProxy(database.hostname, Number(database.port || 5432));
    database.port = String(await proxy.start());
    const cut = await withEnv({ DATABASE_URL: database.toString() }, () => createApiApp());
    try {
      await request(cut.getHttpServer()).get('/health/ready').expect(200);
      await proxy.cut();
      const response = await request(cut.getHttpServer()).get('/health/ready').expect(503);
      expect(response.body).toMatchObject({
        status: 'error',
        error: { database: { status: 'down' } },
        info: redisInfo,
      });
      await request(cut.getHttpServer()).get('/health/live').expect(200);
    } finally {
      await proxy.restore();
      await cut.close();
      await proxy.stop();
    }
  });
});

import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApiApp, withEnv } from '../support/test-app';

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

  it('GET /health/ready reports PostgreSQL and Redis up', async () => {
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('GET /health/ready answers 503 in the terminus shape when Redis is unreachable', async () => {
    const broken = await withEnv({ REDIS_URL: 'redis://127.0.0.1:1/0' }, () => createApiApp());
    try {
      const response = await request(broken.getHttpServer()).get('/health/ready').expect(503);
      expect(response.body).toMatchObject({
        status: 'error',
        error: { redis: { status: 'down' } },
        info: { database: { status: 'up' } },
      });
      await request(broken.getHttpServer()).get('/health/live').expect(200);
    } finally {
      await broken.close();
    }
  });
});

import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ApiClient, type SessionBody } from '../support/api-client';
import { TcpProxy } from '../support/tcp-proxy';
import { createApiApp, withEnv } from '../support/test-app';

/**
 * PostgreSQL unreachable (a proxy in front of it is cut): requests that need it answer the
 * contract's 503 SERVICE_UNAVAILABLE with Retry-After, never a 500, and the API recovers by
 * itself when the database is back.
 */
describe('PostgreSQL outage', () => {
  let proxy: TcpProxy;
  let app: INestApplication;
  let api: ApiClient;
  let session: SessionBody;

  beforeAll(async () => {
    const database = new URL(process.env.DATABASE_URL!);
    proxy = new TcpProxy(database.hostname, Number(database.port || 5432));
    database.port = String(await proxy.start());
    // No cache: every read below must reach the database.
    app = await withEnv({ DATABASE_URL: database.toString(), CACHE_ENABLED: 'false' }, () =>
      createApiApp(),
    );
    api = new ApiClient(app);
    session = await api.register();
  });
  afterAll(async () => {
    await proxy.restore();
    await app.close();
    await proxy.stop();
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After while it is down, then recovers', async () => {
    expect((await api.get('/api/v1/users/me', session.accessToken)).status).toBe(200);
    await proxy.cut();

    const calls = [
      () => api.get('/api/v1/users/me', session.accessToken),
      () => api.send('patch', '/api/v1/users/me', { name: 'During outage' }, session.accessToken),
      () =>
        request(app.getHttpServer())
          .post('/api/v1/auth/login')
          .send({ email: session.user.email, password: 'correct-horse-battery' }),
      () => api.get('/api/v1/tasks', session.accessToken),
    ];
    for (const call of calls) {
      const response = await call();
      expect({ status: response.status, code: response.body.code }).toEqual({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
      });
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminated/);
    }
    expect((await request(app.getHttpServer()).get('/health/live')).status).toBe(200);

    await proxy.restore();
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await api.get('/api/v1/users/me', session.accessToken)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});

import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApiApp, withEnv } from '../support/test-app';

describe('HTTP hardening: helmet and CORS', () => {
  let app: INestApplication;
  const allowed = 'https://app.example.com';

  beforeAll(async () => {
    app = await withEnv({ CORS_ORIGINS: `${allowed},https://admin.example.com` }, () =>
      createApiApp(),
    );
  });
  afterAll(() => app.close());

  it('sends helmet’s security headers on API responses and on the docs', async () => {
    for (const path of ['/api/v1/users/me', '/docs', '/health/live']) {
      const response = await request(app.getHttpServer()).get(path);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers a preflight from a listed origin, exposing the headers clients need', async () => {
    const response = await request(app.getHttpServer())
      .options('/api/v1/users/me')
      .set('Origin', allowed)
      .set('Access-Control-Request-Method', 'PATCH')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(allowed);
    expect(response.headers['access-control-allow-methods']).toContain('PATCH');
    expect(response.headers['access-control-allow-headers']).toContain('Authorization');

    const actual = await request(app.getHttpServer()).get('/health/live').set('Origin', allowed);
    expect(actual.headers['access-control-allow-origin']).toBe(allowed);
    expect(actual.headers['access-control-expose-headers']).toContain('X-Request-ID');
    expect(actual.headers['access-control-expose-headers']).toContain('RateLimit-Remaining');
  });

  it('gives an unlisted origin no CORS headers, so the browser refuses it', async () => {
    const preflight = await request(app.getHttpServer())
      .options('/api/v1/users/me')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const actual = await request(app.getHttpServer())
      .get('/health/live')
      .set('Origin', 'https://evil.example.com');
    expect(actual.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with CORS_ORIGINS empty (the default) no origin is allowed', async () => {
    const closed = await createApiApp();
    try {
      const response = await request(closed.getHttpServer())
        .options('/api/v1/users/me')
        .set('Origin', allowed)
        .set('Access-Control-Request-Method', 'GET');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});

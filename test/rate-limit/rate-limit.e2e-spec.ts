import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ApiClient, uniqueEmail } from '../support/api-client';
import { createApiApp, withEnv } from '../support/test-app';

let apps = 0;

/** An API with its own limits and its own Redis prefix, so its counters start at zero. */
function limitedApp(env: Record<string, string>): Promise<INestApplication> {
  apps += 1;
  return withEnv({ REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_rl${apps}`, ...env }, () =>
    createApiApp(),
  );
}

describe('rate limiting', () => {
  describe('login: LOGIN_RATE_LIMIT_PER_MINUTE per client IP and email', () => {
    let app: INestApplication;
    let api: ApiClient;
    beforeAll(async () => {
      app = await limitedApp({ LOGIN_RATE_LIMIT_PER_MINUTE: '3' });
      api = new ApiClient(app);
    });
    afterAll(() => app.close());

    const login = (email: string, password = 'wrong-password') =>
      request(app.getHttpServer()).post('/api/v1/auth/login').send({ email, password });

    it('answers 401 up to the limit, then 429 RATE_LIMITED with Retry-After and RateLimit-* headers', async () => {
      const session = await api.register({ password: 'right-password' });
      const email = session.user.email;
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const response = await login(email);
        expect(response.status).toBe(401);
        expect(response.headers['ratelimit-limit']).toBe('3');
        expect(response.headers['ratelimit-remaining']).toBe(String(3 - attempt));
      }
      const limited = await login(email);
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.headers['ratelimit-remaining']).toBe('0');
      expect(Number(limited.headers['ratelimit-reset'])).toBeGreaterThan(0);

      // The right password does not get through a limit that is already hit…
      expect((await login(email, 'right-password')).status).toBe(429);
      // …and the limit counts the normalised email.
      expect((await login(`  ${email.toUpperCase()} `)).status).toBe(429);
    });

    it('is per email: another email from the same IP is still let through', async () => {
      const other = uniqueEmail('other');
      for (let attempt = 0; attempt < 3; attempt += 1) await login(other);
      expect((await login(other)).status).toBe(429);
      expect((await login(uniqueEmail('fresh'))).status).toBe(401);
    });

    it('the queue dashboard’s Basic sign-in is limited like login (per IP and email)', async () => {
      const basic = (password: string) =>
        request(app.getHttpServer())
          .get('/admin/queues')
          .set(
            'Authorization',
            `Basic ${Buffer.from(`admin@e2e.test:${password}`).toString('base64')}`,
          );
      for (let attempt = 0; attempt < 3; attempt += 1)
        expect((await basic('nope')).status).toBe(401);
      const limited = await basic('nope');
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('other routes are not counted against the login limit', async () => {
      const session = await api.register();
      for (let attempt = 0; attempt < 5; attempt += 1) {
        expect((await api.get('/api/v1/users/me', session.accessToken)).status).toBe(200);
      }
    });
  });

  describe('password attempts outside login count against the login limit', () => {
    let app: INestApplication;
    let api: ApiClient;
    beforeAll(async () => {
      app = await limitedApp({ LOGIN_RATE_LIMIT_PER_MINUTE: '3' });
      api = new ApiClient(app);
    });
    afterAll(() => app.close());

    const changePassword = (token: string, currentPassword: string) =>
      request(app.getHttpServer())
        .patch('/api/v1/users/me')
        .set('Authorization', `Bearer ${token}`)
        .send({ password: 'brand-new-password', currentPassword });

    it('PATCH /users/me: wrong currentPassword guesses are cut off with 429 (per user and IP)', async () => {
      const victim = await api.register({ password: 'the-real-password' });
      for (let guess = 1; guess <= 3; guess += 1)
        expect((await changePassword(victim.accessToken, `guess-${guess}`)).status).toBe(400);
      const limited = await changePassword(victim.accessToken, 'guess-4');
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Even the right password waits: the limit, not the answer, stops the guessing.
      expect((await changePassword(victim.accessToken, 'the-real-password')).status).toBe(429);
      // A name change needs no password and is not counted.
      const rename = await api.send(
        'patch',
        '/api/v1/users/me',
        { name: 'Still Me' },
        victim.accessToken,
      );
      expect(rename.status).toBe(200);
      // Another user from the same IP has a budget of their own.
      const other = await api.register({ password: 'other-real-password' });
      expect((await changePassword(other.accessToken, 'other-real-password')).status).toBe(200);
    });
  });

  describe('register: REGISTER_RATE_LIMIT_PER_MINUTE per client IP', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await limitedApp({ REGISTER_RATE_LIMIT_PER_MINUTE: '2' });
    });
    afterAll(() => app.close());

    it('the third sign-up from one IP in a minute is 429; login is not affected', async () => {
      const register = () =>
        request(app.getHttpServer())
          .post('/api/v1/auth/register')
          .send({ email: uniqueEmail('burst'), password: 'burst-password', name: 'Burst' });
      expect((await register()).status).toBe(201);
      expect((await register()).status).toBe(201);
      const limited = await register();
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      const login = await request(app.getHttpServer())
        .post('/api/v1/auth/login')
        .send({ email: 'admin@e2e.test', password: 'e2e-admin-password' });
      expect(login.status).toBe(200);
    });
  });

  describe('global: RATE_LIMIT_PER_MINUTE per client IP, across routes', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await limitedApp({ RATE_LIMIT_PER_MINUTE: '5' });
    });
    afterAll(() => app.close());

    it('the 6th request in a minute is 429, whatever the route; health probes and /metrics are never limited', async () => {
      const server = app.getHttpServer();
      const statuses: number[] = [];
      for (const path of [
        '/api/v1/users/me',
        '/api/v1/tasks',
        '/api/v1/users',
        '/api/v1/users/me',
        '/api/v1/tasks',
      ]) {
        statuses.push((await request(server).get(path)).status);
      }
      expect(statuses).not.toContain(429);
      const limited = await request(server).get('/api/v1/users/me');
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(limited.headers['retry-after']).toBeDefined();

      for (let probe = 0; probe < 10; probe += 1) {
        expect((await request(server).get('/health/live')).status).toBe(200);
      }
      expect((await request(server).get('/health/ready')).status).toBe(200);
      expect((await request(server).get('/metrics')).status).toBe(200);
    });
  });

  describe('TRUST_PROXY decides which X-Forwarded-For entry is the client', () => {
    const burst = async (app: INestApplication, forwardedFor: (i: number) => string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const response = await request(app.getHttpServer())
          .get('/api/v1/users/me')
          .set('X-Forwarded-For', forwardedFor(i));
        statuses.push(response.status);
      }
      return statuses;
    };
    const withApp = async (
      env: Record<string, string>,
      work: (app: INestApplication) => Promise<void>,
    ) => {
      const app = await limitedApp({ RATE_LIMIT_PER_MINUTE: '2', ...env });
      try {
        await work(app);
      } finally {
        await app.close();
      }
    };

    it('TRUST_PROXY=false: a client cannot dodge the limit by inventing X-Forwarded-For', async () => {
      await withApp({ TRUST_PROXY: 'false' }, async (app) => {
        expect(await burst(app, (i) => `203.0.113.${i + 1}`)).toEqual([401, 401, 429, 429]);
      });
    });

    it('TRUST_PROXY=1: the entry the one proxy appended is the client; a forged left-most entry changes nothing', async () => {
      await withApp({ TRUST_PROXY: '1' }, async (app) => {
        // What an appending proxy forwards when the client at 203.0.113.7 sends its own,
        // changing X-Forwarded-For: with TRUST_PROXY=true each request would count as a new IP.
        expect(await burst(app, (i) => `10.9.9.${i + 1}, 203.0.113.7`)).toEqual([
          401, 401, 429, 429,
        ]);
        expect(
          await burst(app, (i) => `198.51.100.${i + 1}, 10.9.9.${i + 1}, 203.0.113.7`),
        ).toEqual([429, 429, 429, 429]);
        // Another client behind the same proxy has its own budget, whatever it forges.
        expect(await burst(app, (i) => `10.9.9.${i + 1}, 203.0.113.8`)).toEqual([
          401, 401, 429, 429,
        ]);
        // Each real client: its own budget.
        expect(await burst(app, (i) => `10.9.9.1, 198.51.100.${i + 1}`)).toEqual([
          401, 401, 401, 401,
        ]);
      });
    });

    it('TRUST_PROXY=<addresses>: the right-most entry that is not a listed proxy is the client', async () => {
      await withApp({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }, async (app) => {
        // Two proxies of ours (the socket's 127.0.0.1 and 10.0.0.2) in front of 203.0.113.7.
        expect(await burst(app, (i) => `192.0.2.${i + 1}, 203.0.113.7, 10.0.0.2`)).toEqual([
          401, 401, 429, 429,
        ]);
        expect(await burst(app, (i) => `203.0.113.${i + 10}, 10.0.0.2`)).toEqual([
          401, 401, 401, 401,
        ]);
      });
    });

    it('TRUST_PROXY=true (development and test only): every hop is believed, the client picks its IP', async () => {
      await withApp({ TRUST_PROXY: 'true' }, async (app) => {
        expect(await burst(app, (i) => `10.9.9.${i + 1}, 203.0.113.7`)).toEqual([
          401, 401, 401, 401,
        ]);
      });
    });
  });

  describe('Redis unreachable from the start', () => {
    it('counts in process memory: requests are answered at once and still limited', async () => {
      const app = await limitedApp({
        REDIS_URL: 'redis://127.0.0.1:1/0',
        RATE_LIMIT_PER_MINUTE: '3',
      });
      try {
        const server = app.getHttpServer();
        const started = Date.now();
        const statuses: number[] = [];
        for (let i = 0; i < 4; i += 1)
          statuses.push((await request(server).get('/api/v1/users/me')).status);
        expect(statuses).toEqual([401, 401, 401, 429]);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect((await request(server).get('/health/live')).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });
});

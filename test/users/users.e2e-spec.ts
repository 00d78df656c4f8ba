import { DataSource } from 'typeorm';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  ADMIN,
  ApiClient,
  expectNoPasswordHashes,
  uniqueEmail,
  type SessionBody,
} from '../support/api-client';
import { createApiApp } from '../support/test-app';

describe('users (/api/v1/users)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let admin: SessionBody;
  let member: SessionBody;

  beforeAll(async () => {
    app = await createApiApp();
    api = new ApiClient(app);
    admin = await api.loginAdmin();
    member = await api.register({ password: 'member-password', name: 'Member' });
  });
  afterAll(async () => {
    expectNoPasswordHashes(api.bodies);
    await app.close();
  });

  describe('GET /me and PATCH /me (IsAuthenticated)', () => {
    it('GET /me answers the caller; without a token 401', async () => {
      const response = await api.get('/api/v1/users/me', member.accessToken);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(member.user);
      expect((await api.get('/api/v1/users/me')).status).toBe(401);
    });

    it('PATCH /me changes the name', async () => {
      const session = await api.register();
      const response = await api.send(
        'patch',
        '/api/v1/users/me',
        { name: 'Renamed' },
        session.accessToken,
      );
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: session.user.id, name: 'Renamed' });
    });

    it.each([
      ['role', { role: 'admin' }],
      ['isActive', { isActive: false }],
      ['email', { email: 'new@example.com' }],
    ])('PATCH /me refuses %s with 400 and changes nothing', async (field, body) => {
      const session = await api.register();
      const response = await api.send('patch', '/api/v1/users/me', body, session.accessToken);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([
        { field, message: `property ${field} should not exist` },
      ]);
      expect((await api.get('/api/v1/users/me', session.accessToken)).body).toEqual(session.user);
    });

    it('a new password needs the current one; the right one switches passwords', async () => {
      const session = await api.register({ password: 'old-password-1' });
      const missing = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'new-password-1' },
        session.accessToken,
      );
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].field).toBe('currentPassword');
      const wrong = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'new-password-1', currentPassword: 'nope-nope' },
        session.accessToken,
      );
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors[0].field).toBe('currentPassword');
      expect(
        (
          await api.send('post', '/api/v1/auth/login', {
            email: session.user.email,
            password: 'old-password-1',
          })
        ).status,
      ).toBe(200);

      const ok = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'new-password-1', currentPassword: 'old-password-1' },
        session.accessToken,
      );
      expect(ok.status).toBe(200);
      expect(
        (
          await api.send('post', '/api/v1/auth/login', {
            email: session.user.email,
            password: 'old-password-1',
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await api.send('post', '/api/v1/auth/login', {
            email: session.user.email,
            password: 'new-password-1',
          })
        ).status,
      ).toBe(200);
    });
  });

  describe('admin routes (IsAdmin)', () => {
    const adminRoutes = (
      id: string,
    ): Array<['get' | 'post' | 'patch' | 'delete', string, object | undefined]> => [
      ['get', '/api/v1/users', undefined],
      ['post', '/api/v1/users', { email: uniqueEmail(), password: 'password-123', name: 'X' }],
      ['get', `/api/v1/users/${id}`, undefined],
      ['patch', `/api/v1/users/${id}`, { name: 'Hijacked' }],
      ['delete', `/api/v1/users/${id}`, undefined],
    ];

    it('a non-admin gets 403 FORBIDDEN on every admin route, and nothing changes', async () => {
      for (const [method, path, body] of adminRoutes(admin.user.id)) {
        const response =
          method === 'get'
            ? await api.get(path, member.accessToken)
            : await api.send(method, path, body, member.accessToken);
        expect({ method, path, status: response.status, code: response.body.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
      expect((await api.get(`/api/v1/users/${admin.user.id}`, admin.accessToken)).body.name).toBe(
        'Administrator',
      );
    });

    it('no token gives 401 on every admin route', async () => {
      for (const [method, path, body] of adminRoutes(admin.user.id)) {
        const response =
          method === 'get' ? await api.get(path) : await api.send(method, path, body);
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
      }
    });

    it('POST / creates a user (role optional) → 201; a taken email → 409 EMAIL_TAKEN', async () => {
      const email = uniqueEmail('created');
      const created = await api.send(
        'post',
        '/api/v1/users',
        { email, password: 'password-123', name: 'Created', role: 'admin' },
        admin.accessToken,
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ email, role: 'admin', isActive: true });
      const plain = await api.send(
        'post',
        '/api/v1/users',
        { email: uniqueEmail(), password: 'password-123', name: 'Plain' },
        admin.accessToken,
      );
      expect(plain.body.role).toBe('user');
      const again = await api.send(
        'post',
        '/api/v1/users',
        { email: email.toUpperCase(), password: 'password-123', name: 'Again' },
        admin.accessToken,
      );
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('EMAIL_TAKEN');
      const badRole = await api.send(
        'post',
        '/api/v1/users',
        { email: uniqueEmail(), password: 'password-123', name: 'R', role: 'root' },
        admin.accessToken,
      );
      expect(badRole.status).toBe(400);
    });

    it('GET /:id, PATCH /:id, DELETE /:id: malformed id → 400, absent id → 404', async () => {
      for (const method of ['get', 'patch', 'delete'] as const) {
        const malformed =
          method === 'get'
            ? await api.get('/api/v1/users/not-a-uuid', admin.accessToken)
            : await api.send(
                method,
                '/api/v1/users/not-a-uuid',
                method === 'patch' ? { name: 'x' } : undefined,
                admin.accessToken,
              );
        expect({ method, status: malformed.status, code: malformed.body.code }).toEqual({
          method,
          status: 400,
          code: 'BAD_REQUEST',
        });
        const absentId = randomUUID();
        const absent =
          method === 'get'
            ? await api.get(`/api/v1/users/${absentId}`, admin.accessToken)
            : await api.send(
                method,
                `/api/v1/users/${absentId}`,
                method === 'patch' ? { name: 'x' } : undefined,
                admin.accessToken,
              );
        expect({ method, status: absent.status, code: absent.body.code }).toEqual({
          method,
          status: 404,
          code: 'NOT_FOUND',
        });
      }
    });

    it('PATCH /:id changes name, role and isActive; unknown fields → 400', async () => {
      const session = await api.register();
      const response = await api.send(
        'patch',
        `/api/v1/users/${session.user.id}`,
        { name: 'Promoted', role: 'admin' },
        admin.accessToken,
      );
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'Promoted', role: 'admin', isActive: true });
      const bad = await api.send(
        'patch',
        `/api/v1/users/${session.user.id}`,
        { email: 'sneaky@example.com' },
        admin.accessToken,
      );
      expect(bad.status).toBe(400);
    });

    it('DELETE /:id → 204, then the user is gone (404)', async () => {
      const session = await api.register();
      expect(
        (await api.send('delete', `/api/v1/users/${session.user.id}`, undefined, admin.accessToken))
          .status,
      ).toBe(204);
      expect((await api.get(`/api/v1/users/${session.user.id}`, admin.accessToken)).status).toBe(
        404,
      );
    });
  });

  describe('GET / (collection)', () => {
    it('answers { items, nextCursor } newest first, filtered by exact email and by role', async () => {
      const session = await api.register();
      const byEmail = await api.get(
        `/api/v1/users?email=${encodeURIComponent(`  ${session.user.email.toUpperCase()}`)}`,
        admin.accessToken,
      );
      expect(byEmail.status).toBe(200);
      expect(byEmail.body).toEqual({ items: [session.user], nextCursor: null });

      const admins = await api.get('/api/v1/users?role=admin&limit=100', admin.accessToken);
      expect(admins.body.items.length).toBeGreaterThan(0);
      for (const user of admins.body.items) expect(user.role).toBe('admin');
      const times = admins.body.items.map((user: { createdAt: string }) => user.createdAt);
      expect([...times].sort().reverse()).toEqual(times);
    });

    it.each([
      ['limit=0', 400],
      ['limit=101', 400],
      ['limit=abc', 400],
      ['role=root', 400],
      ['cursor=garbage', 400],
      [`cursor=${Buffer.from('["2026-01-01T00:00:00.000Z","nope"]').toString('base64url')}`, 400],
      ['unknown=1', 400],
      ['limit=1', 200],
      ['limit=100', 200],
    ])('?%s → %i', async (query, status) => {
      const response = await api.get(`/api/v1/users?${query}`, admin.accessToken);
      expect(response.status).toBe(status);
      if (status === 400) expect(response.headers['content-type']).toMatch(/problem\+json/);
    });

    it('keyset pagination walks every user exactly once', async () => {
      const created: string[] = [];
      for (let i = 0; i < 23; i += 1) {
        const response = await api.send(
          'post',
          '/api/v1/users',
          { email: uniqueEmail('page'), password: 'password-123', name: `Page ${i}` },
          admin.accessToken,
        );
        created.push(response.body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `limit=7&cursor=${encodeURIComponent(cursor)}` : 'limit=7';
        const response = await api.get(`/api/v1/users?${query}`, admin.accessToken);
        expect(response.status).toBe(200);
        expect(response.body.items.length).toBeLessThanOrEqual(7);
        seen.push(...response.body.items.map((user: { id: string }) => user.id));
        cursor = response.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 1000);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of created) expect(seen).toContain(id);
      expect(pages).toBeGreaterThanOrEqual(4);
    });
  });

  describe('admin seed', () => {
    it('creates the admin once: restarting the API keeps exactly one, with its password', async () => {
      const again = await createApiApp();
      await again.close();
      const rows = await app
        .get(DataSource)
        .query('SELECT role, is_active FROM users WHERE email = $1', [ADMIN.email]);
      expect(rows).toEqual([{ role: 'admin', is_active: true }]);
      expect((await api.loginAdmin()).user.role).toBe('admin');
    });
  });

  describe('hostile input is data', () => {
    it('answers 400, never 500, to null fields, NUL bytes, out-of-range cursors and deep JSON', async () => {
      const nullName = await api.send(
        'patch',
        '/api/v1/users/me',
        { name: null },
        member.accessToken,
      );
      expect(nullName.status).toBe(400);
      expect(nullName.body.errors).toContainEqual({ field: 'name', message: expect.any(String) });
      const nullActive = await api.send(
        'patch',
        `/api/v1/users/${member.user.id}`,
        { isActive: null },
        admin.accessToken,
      );
      expect(nullActive.status).toBe(400);

      for (const query of ['email=%00', 'email=ada%00%40example.com']) {
        const response = await api.get(`/api/v1/users?${query}`, admin.accessToken);
        expect(response.status).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }

      for (const date of ['-200000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z']) {
        const cursor = Buffer.from(JSON.stringify([date, member.user.id])).toString('base64url');
        const response = await api.get(`/api/v1/users?cursor=${cursor}`, admin.accessToken);
        expect({ status: response.status, code: response.body.code }).toEqual({
          status: 400,
          code: 'BAD_REQUEST',
        });
      }

      const deep = '{"name":' + '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000) + '}';
      const nested = await api
        .http()
        .patch('/api/v1/users/me')
        .set('Authorization', `Bearer ${member.accessToken}`)
        .set('Content-Type', 'application/json')
        .send(deep);
      expect(nested.status).toBe(400);
      expect(nested.body.detail).toMatch(/nested deeper/);
    });

    it('SQL-looking names are stored verbatim and filters match them as data', async () => {
      const name = `Robert'); DROP TABLE users;--`;
      const session = await api.register({ name });
      expect(session.user.name).toBe(name);
      expect((await api.get('/api/v1/users/me', session.accessToken)).body.name).toBe(name);

      const injection = await api.get(
        `/api/v1/users?email=${encodeURIComponent("' OR '1'='1")}`,
        admin.accessToken,
      );
      expect(injection.status).toBe(200);
      expect(injection.body).toEqual({ items: [], nextCursor: null });
      const roleInjection = await api.get(
        `/api/v1/users?role=${encodeURIComponent("admin' OR '1'='1")}`,
        admin.accessToken,
      );
      expect(roleInjection.status).toBe(400);
      expect((await api.get(`/api/v1/users/${session.user.id}`, admin.accessToken)).status).toBe(
        200,
      );
    });
  });
});

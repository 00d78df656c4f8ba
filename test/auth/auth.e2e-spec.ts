import type { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';
import {
  ApiClient,
  expectNoPasswordHashes,
  uniqueEmail,
  type SessionBody,
} from '../support/api-client';
import { createApiApp } from '../support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('auth (/api/v1/auth)', () => {
  let app: INestApplication;
  let api: ApiClient;

  beforeAll(async () => {
    app = await createApiApp();
    api = new ApiClient(app);
  });
  afterAll(async () => {
    expectNoPasswordHashes(api.bodies);
    await app.close();
  });

  const me = (token: string) => api.get('/api/v1/users/me', token);

  describe('POST /register', () => {
    it('creates the user and answers 201 with a Session; the email is trimmed and lower-cased', async () => {
      const local = uniqueEmail('Ada').split('@')[0];
      const response = await api.send('post', '/api/v1/auth/register', {
        email: `  ${local.toUpperCase()}@Example.COM `,
        password: 'correct-horse-battery',
        name: 'Ada Lovelace',
      });
      expect(response.status).toBe(201);
      const session = response.body as SessionBody;
      expect(session).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        user: {
          id: expect.stringMatching(UUID),
          email: `${local.toLowerCase()}@example.com`,
          name: 'Ada Lovelace',
          role: 'user',
          isActive: true,
          emailVerifiedAt: null,
          createdAt: expect.stringMatching(/Z$/),
          updatedAt: expect.stringMatching(/Z$/),
        },
      });
      const claims = new JwtService().decode<Record<string, unknown>>(session.accessToken);
      expect(claims).toMatchObject({
        sub: session.user.id,
        role: 'user',
        sid: expect.stringMatching(UUID),
        jti: expect.stringMatching(UUID),
      });
      expect((claims.exp as number) - (claims.iat as number)).toBe(900);
      expect((await me(session.accessToken)).status).toBe(200);
    });

    it.each([
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['a 7-character password', { password: '1234567' }, 'password'],
      ['a 129-character password', { password: 'x'.repeat(129) }, 'password'],
      ['an empty name', { name: '' }, 'name'],
      ['a 101-character name', { name: 'n'.repeat(101) }, 'name'],
      ['a missing password', { password: undefined }, 'password'],
    ])('rejects %s with 400 VALIDATION_FAILED naming the field', async (_case, change, field) => {
      const body = {
        email: uniqueEmail(),
        password: 'correct-horse-battery',
        name: 'N',
        ...change,
      };
      const response = await api.send('post', '/api/v1/auth/register', body);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });

    it('rejects unknown properties such as role (no self-promotion)', async () => {
      const email = uniqueEmail();
      const response = await api.send('post', '/api/v1/auth/register', {
        email,
        password: 'correct-horse-battery',
        name: 'Mallory',
        role: 'admin',
      });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([
        { field: 'role', message: 'property role should not exist' },
      ]);
      const count = await app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
      expect(count[0].n).toBe(0);
    });

    it('answers 409 EMAIL_TAKEN for a taken email, whatever its case and spacing', async () => {
      const { user } = await api.register();
      const response = await api.send('post', '/api/v1/auth/register', {
        email: ` ${user.email.toUpperCase()}`,
        password: 'another-password',
        name: 'Twin',
      });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        code: 'EMAIL_TAKEN',
        status: 409,
        type: '/problems/email-taken',
      });
    });

    it('12 concurrent registrations of one email: exactly one 201, eleven 409 EMAIL_TAKEN', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api.send('post', '/api/v1/auth/register', {
            email,
            password: 'correct-horse-battery',
            name: `Racer ${i}`,
          }),
        ),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, ...Array(11).fill(409)]);
      for (const response of responses.filter((r) => r.status === 409))
        expect(response.body.code).toBe('EMAIL_TAKEN');
      const rows = await app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
      expect(rows[0].n).toBe(1);
    });
  });

  describe('POST /login', () => {
    it('answers 200 with a Session for the right password, with any email spelling', async () => {
      const { user } = await api.register({ password: 'the-right-password' });
      const response = await api.send('post', '/api/v1/auth/login', {
        email: `  ${user.email.toUpperCase()} `,
        password: 'the-right-password',
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ tokenType: 'Bearer', user: { id: user.id } });
    });

    it('wrong password and unknown email give the same 401 INVALID_CREDENTIALS, in similar time', async () => {
      const { user } = await api.register({ password: 'the-right-password' });
      const attempt = async (email: string) => {
        const started = process.hrtime.bigint();
        const response = await api.send('post', '/api/v1/auth/login', {
          email,
          password: 'the-wrong-password',
        });
        return { response, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const a = await attempt(user.email);
        const b = await attempt(uniqueEmail('nobody'));
        for (const { response } of [a, b]) {
          expect(response.status).toBe(401);
          expect(response.body).toMatchObject({
            code: 'INVALID_CREDENTIALS',
            detail: 'The email or password is wrong.',
          });
        }
        wrong.push(a.ms);
        unknown.push(b.ms);
      }
      const median = (values: number[]) =>
        values.sort((x, y) => x - y)[Math.floor(values.length / 2)];
      // Both paths run one argon2 verification: an unknown email is not answered much faster.
      expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
    });

    it('answers 400 for a body that is not credentials at all', async () => {
      const response = await api.send('post', '/api/v1/auth/login', { email: 'x@example.com' });
      expect(response.status).toBe(400);
    });
  });

  describe('access tokens', () => {
    let session: SessionBody;
    beforeAll(async () => {
      session = await api.register();
    });

    const secret = () => process.env.JWT_SECRET ?? 'development-only-secret-change-me-0123456789';
    const claims = () => ({
      sub: session.user.id,
      role: 'admin',
      sid: new JwtService().decode<{ sid: string }>(session.accessToken).sid,
      jti: 'x',
    });

    it('no token → 401 UNAUTHENTICATED', async () => {
      const response = await api.get('/api/v1/users/me');
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });

    it.each([
      ['garbage', () => 'Bearer not.a.jwt'],
      ['a non-bearer scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
      [
        'a tampered signature',
        () =>
          `Bearer ${session.accessToken.slice(0, -4)}${session.accessToken.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
      ],
      [
        'a tampered payload (role upgraded)',
        () => {
          const [header, , signature] = session.accessToken.split('.');
          return `Bearer ${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.${signature}`;
        },
      ],
      [
        'alg: none',
        () => {
          const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString(
            'base64url',
          );
          return `Bearer ${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
        },
      ],
      [
        'an expired token',
        () =>
          `Bearer ${new JwtService({ secret: secret() }).sign({ ...claims(), role: 'user' }, { expiresIn: -10 })}`,
      ],
      [
        'a token signed with another secret',
        () => `Bearer ${new JwtService({ secret: 'x'.repeat(40) }).sign(claims())}`,
      ],
    ])('%s → 401', async (_case, header) => {
      const response = await api.http().get('/api/v1/users/me').set('Authorization', header());
      api.record(response);
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('POST /refresh', () => {
    it('rotates: the new pair works, the old refresh token is single-use', async () => {
      const first = await api.register();
      const second = await api.send('post', '/api/v1/auth/refresh', {
        refreshToken: first.refreshToken,
      });
      expect(second.status).toBe(200);
      expect(second.body.refreshToken).not.toBe(first.refreshToken);
      expect(second.body.accessToken).not.toBe(first.accessToken);
      expect((await me(second.body.accessToken)).status).toBe(200);
      const third = await api.send('post', '/api/v1/auth/refresh', {
        refreshToken: second.body.refreshToken,
      });
      expect(third.status).toBe(200);
    });

    it('reuse of a used refresh token → 401 TOKEN_REVOKED and every session of the user is revoked', async () => {
      const first = await api.register({ password: 'reuse-password' });
      const otherDevice = await api.login(first.user.email, 'reuse-password');
      const rotated = (
        await api.send('post', '/api/v1/auth/refresh', { refreshToken: first.refreshToken })
      ).body as SessionBody;

      const replay = await api.send('post', '/api/v1/auth/refresh', {
        refreshToken: first.refreshToken,
      });
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('TOKEN_REVOKED');

      // The family is dead: the rotated pair, and the access token of the other device too.
      for (const token of [rotated.accessToken, otherDevice.accessToken, first.accessToken]) {
        const response = await me(token);
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('TOKEN_REVOKED');
      }
      for (const refreshToken of [rotated.refreshToken, otherDevice.refreshToken]) {
        const response = await api.send('post', '/api/v1/auth/refresh', { refreshToken });
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('TOKEN_REVOKED');
      }
      // A fresh login still works: the account is not locked, only its sessions.
      expect(
        (await me((await api.login(first.user.email, 'reuse-password')).accessToken)).status,
      ).toBe(200);
    });

    it('an unknown refresh token → 401 UNAUTHENTICATED; a missing one → 400', async () => {
      const unknown = await api.send('post', '/api/v1/auth/refresh', {
        refreshToken: 'definitely-not-issued',
      });
      expect(unknown.status).toBe(401);
      expect(unknown.body.code).toBe('UNAUTHENTICATED');
      expect((await api.send('post', '/api/v1/auth/refresh', {})).status).toBe(400);
    });

    it('works on a public route even with a stale access token in the header', async () => {
      const session = await api.register();
      const response = await api
        .http()
        .post('/api/v1/auth/refresh')
        .set('Authorization', 'Bearer stale.token.here')
        .send({ refreshToken: session.refreshToken });
      expect(response.status).toBe(200);
    });
  });

  describe('POST /logout', () => {
    it('204; the access token and the refresh token stop working at once (TOKEN_REVOKED)', async () => {
      const session = await api.register({ password: 'logout-password' });
      const other = await api.login(session.user.email, 'logout-password');
      const response = await api.send(
        'post',
        '/api/v1/auth/logout',
        undefined,
        session.accessToken,
      );
      expect(response.status).toBe(204);

      const access = await me(session.accessToken);
      expect(access.status).toBe(401);
      expect(access.body.code).toBe('TOKEN_REVOKED');
      const refresh = await api.send('post', '/api/v1/auth/refresh', {
        refreshToken: session.refreshToken,
      });
      expect(refresh.status).toBe(401);
      expect(refresh.body.code).toBe('TOKEN_REVOKED');
      // Only that session: the other device stays signed in.
      expect((await me(other.accessToken)).status).toBe(200);
    });

    it('without a token → 401', async () => {
      expect((await api.send('post', '/api/v1/auth/logout')).status).toBe(401);
    });
  });

  describe('deactivated and deleted users', () => {
    let admin: SessionBody;
    beforeAll(async () => {
      admin = await api.loginAdmin();
    });

    it('deactivation locks the user out at once: access, refresh and login', async () => {
      const session = await api.register({ password: 'inactive-password' });
      const response = await api.send(
        'patch',
        `/api/v1/users/${session.user.id}`,
        { isActive: false },
        admin.accessToken,
      );
      expect(response.status).toBe(200);
      expect(response.body.isActive).toBe(false);

      expect((await me(session.accessToken)).status).toBe(401);
      expect(
        (await api.send('post', '/api/v1/auth/refresh', { refreshToken: session.refreshToken }))
          .status,
      ).toBe(401);
      const login = await api.send('post', '/api/v1/auth/login', {
        email: session.user.email,
        password: 'inactive-password',
      });
      expect(login.status).toBe(401);
      expect(login.body.code).toBe('INVALID_CREDENTIALS');
    });

    it('demoting an admin revokes their sessions (their tokens still say admin)', async () => {
      const email = uniqueEmail('demoted');
      await api.send(
        'post',
        '/api/v1/users',
        { email, password: 'demoted-password', name: 'Temp Admin', role: 'admin' },
        admin.accessToken,
      );
      const session = await api.login(email, 'demoted-password');
      expect((await api.get('/api/v1/users?limit=1', session.accessToken)).status).toBe(200);
      expect(
        (
          await api.send(
            'patch',
            `/api/v1/users/${session.user.id}`,
            { role: 'user' },
            admin.accessToken,
          )
        ).status,
      ).toBe(200);
      const after = await api.get('/api/v1/users?limit=1', session.accessToken);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('TOKEN_REVOKED');
      const fresh = await api.login(email, 'demoted-password');
      expect((await api.get('/api/v1/users?limit=1', fresh.accessToken)).status).toBe(403);
    });

    it('deletion locks the user out at once', async () => {
      const session = await api.register({ password: 'deleted-password' });
      expect(
        (await api.send('delete', `/api/v1/users/${session.user.id}`, undefined, admin.accessToken))
          .status,
      ).toBe(204);
      expect((await me(session.accessToken)).status).toBe(401);
      expect(
        (await api.send('post', '/api/v1/auth/refresh', { refreshToken: session.refreshToken }))
          .status,
      ).toBe(401);
      expect(
        (
          await api.send('post', '/api/v1/auth/login', {
            email: session.user.email,
            password: 'deleted-password',
          })
        ).status,
      ).toBe(401);
    });
  });

  describe('password changes end other sessions at once', () => {
    const refresh = (refreshToken: string) =>
      api.send('post', '/api/v1/auth/refresh', { refreshToken });

    it('PATCH /users/me with a new password: every other session (access and refresh) dies, the caller’s stays', async () => {
      const caller = await api.register({ password: 'old-password-1' });
      const laptop = await api.login(caller.user.email, 'old-password-1');
      const stolen = await api.login(caller.user.email, 'old-password-1');

      const changed = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'new-password-2', currentPassword: 'old-password-1' },
        caller.accessToken,
      );
      expect(changed.status).toBe(200);

      for (const other of [laptop, stolen]) {
        const access = await me(other.accessToken);
        expect({ status: access.status, code: access.body.code }).toEqual({
          status: 401,
          code: 'TOKEN_REVOKED',
        });
        expect((await refresh(other.refreshToken)).status).toBe(401);
      }
      // The caller's own session survives: its access token and its refresh token still work.
      expect((await me(caller.accessToken)).status).toBe(200);
      const rotated = await refresh(caller.refreshToken);
      expect(rotated.status).toBe(200);
      expect((await me(rotated.body.accessToken)).status).toBe(200);
      expect((await api.login(caller.user.email, 'new-password-2')).user.id).toBe(caller.user.id);
    });

    it('a wrong currentPassword changes nothing and revokes nothing', async () => {
      const caller = await api.register({ password: 'old-password-1' });
      const other = await api.login(caller.user.email, 'old-password-1');
      const refused = await api.send(
        'patch',
        '/api/v1/users/me',
        { password: 'new-password-2', currentPassword: 'not-the-password' },
        caller.accessToken,
      );
      expect(refused.status).toBe(400);
      expect((await me(other.accessToken)).status).toBe(200);
    });

    it('an admin setting a user’s password revokes all of the user’s sessions', async () => {
      const admin = await api.loginAdmin();
      const victim = await api.register({ password: 'victim-password' });
      const second = await api.login(victim.user.email, 'victim-password');
      const response = await api.send(
        'patch',
        `/api/v1/users/${victim.user.id}`,
        { password: 'reset-by-admin' },
        admin.accessToken,
      );
      expect(response.status).toBe(200);
      for (const session of [victim, second]) {
        expect((await me(session.accessToken)).body.code).toBe('TOKEN_REVOKED');
        expect((await refresh(session.refreshToken)).status).toBe(401);
      }
      expect((await api.login(victim.user.email, 'reset-by-admin')).user.id).toBe(victim.user.id);
      expect((await me(admin.accessToken)).status).toBe(200);
    });
  });
});

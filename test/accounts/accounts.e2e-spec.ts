import {
  Controller,
  Get,
  type INestApplication,
  type INestApplicationContext,
} from '@nestjs/common';
import { Clock } from '@girder/config';
import { CurrentUser, IsVerified, Permissions } from '@girder/permissions';
import { DataSource } from 'typeorm';
import { ApiClient, uniqueEmail, type SessionBody } from '../support/api-client';
import { waitForMailTask } from '../support/outbox';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';

const VERIFY_MAIL = 'account.verify-email-mail';
const RESET_MAIL = 'account.password-reset-mail';
const PASSWORD = 'correct-horse-battery';

/** A clock a test can move forward, instead of sleeping through a token's lifetime. */
class MovableClock extends Clock {
  offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** A route only verified users may call. */
@Controller('test-verified')
class VerifiedOnlyController {
  @Get()
  @Permissions(IsVerified)
  get(@CurrentUser() user: CurrentUser): { id: string } {
    return { id: user.id };
  }
}

describe('accounts: email verification, password reset, sessions (/api/v1/auth)', () => {
  let app: INestApplication;
  let worker: INestApplicationContext;
  let api: ApiClient;
  let database: DataSource;
  let admin: SessionBody;
  const clock = new MovableClock();

  const verificationMail = (userId: string, after?: string) =>
    waitForMailTask(database, VERIFY_MAIL, 'userId', userId, { after });
  const resetMail = (email: string, after?: string) =>
    waitForMailTask(database, RESET_MAIL, 'email', email, { after });
  const post = (path: string, body?: object, token?: string) =>
    api.send('post', `/api/v1/auth${path}`, body, token);
  const me = (token: string) => api.get('/api/v1/users/me', token);
  const forgot = (email: string) => post('/password/forgot', { email });

  beforeAll(async () => {
    app = await createApiApp({
      controllers: [VerifiedOnlyController],
      configure: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
    worker = await createWorkerApp();
    api = new ApiClient(app);
    database = app.get(DataSource);
    admin = await api.loginAdmin();
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
  });
  afterEach(() => {
    clock.offsetMs = 0;
  });

  describe('email verification', () => {
    it('registration sends a link; its token verifies the address once', async () => {
      const session = await api.register();
      expect(session.user.emailVerifiedAt).toBeNull();
      const { mail } = await verificationMail(session.user.id);
      expect(mail!.text).toContain(`To: ${session.user.email}`);
      expect(mail!.text).toContain('http://localhost:3000/verify-email?token=');
      expect(mail!.text).toContain('Content-Type: text/html');

      const verified = await post('/verify-email', { token: mail!.token });
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ id: session.user.id, email: session.user.email });
      expect(Date.parse(verified.body.emailVerifiedAt)).not.toBeNaN();
      expect((await me(session.accessToken)).body.emailVerifiedAt).toBe(
        verified.body.emailVerifiedAt,
      );

      const again = await post('/verify-email', { token: mail!.token });
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('TOKEN_INVALID');
    });

    it('an admin creating a user sends the new user a link too', async () => {
      const created = await api.send(
        'post',
        '/api/v1/users',
        { email: uniqueEmail('created'), password: PASSWORD, name: 'Created' },
        admin.accessToken,
      );
      expect(created.status).toBe(201);
      const { mail } = await verificationMail(created.body.id);
      expect(mail!.text).toContain(`To: ${created.body.email}`);
    });

    it('resend sends a new link (202); once verified, no more mails go out', async () => {
      const session = await api.register();
      const first = await verificationMail(session.user.id);
      const resent = await post('/verify-email/resend', undefined, session.accessToken);
      expect(resent.status).toBe(202);
      expect(resent.body.message).toEqual(expect.any(String));
      const second = await verificationMail(session.user.id, first.taskId);
      expect(second.mail!.token).not.toBe(first.mail!.token);

      expect((await post('/verify-email', { token: second.mail!.token })).status).toBe(200);
      await post('/verify-email/resend', undefined, session.accessToken);
      const third = await verificationMail(session.user.id, second.taskId);
      expect(third.skipped).toBe('the address is already verified');
    });

    it('unknown, malformed and wrong-purpose tokens are 400; resend needs a token', async () => {
      expect((await post('/verify-email', { token: 'no-such-token' })).body.code).toBe(
        'TOKEN_INVALID',
      );
      const malformed = await post('/verify-email', { token: 42 });
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('VALIDATION_FAILED');
      expect((await post('/verify-email/resend')).status).toBe(401);

      // A reset token is not a verification token, nor the other way round.
      const session = await api.register();
      const verify = await verificationMail(session.user.id);
      await forgot(session.user.email);
      const reset = await resetMail(session.user.email);
      const wrongWay = await post('/verify-email', { token: reset.mail!.token });
      expect(wrongWay.status).toBe(400);
      expect(wrongWay.body.code).toBe('TOKEN_INVALID');
      const otherWay = await post('/password/reset', {
        token: verify.mail!.token,
        password: 'another-password-1',
      });
      expect(otherWay.status).toBe(400);
      expect(otherWay.body.code).toBe('TOKEN_INVALID');
      // Neither attempt used the tokens up.
      expect((await post('/verify-email', { token: verify.mail!.token })).status).toBe(200);
    });

    it('a link sent to an address the user no longer has verifies nothing', async () => {
      const session = await api.register();
      const { mail } = await verificationMail(session.user.id);
      await database.query('UPDATE users SET email = $2 WHERE id = $1', [
        session.user.id,
        uniqueEmail('changed'),
      ]);
      const response = await post('/verify-email', { token: mail!.token });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('TOKEN_INVALID');
      const [row] = await database.query('SELECT email_verified_at FROM users WHERE id = $1', [
        session.user.id,
      ]);
      expect(row.email_verified_at).toBeNull();
    });

    it('expires after EMAIL_VERIFICATION_TTL_HOURS (48)', async () => {
      const session = await api.register();
      const { mail } = await verificationMail(session.user.id);
      clock.offsetMs = 48 * 3_600_000 + 1_000;
      expect((await post('/verify-email', { token: mail!.token })).body.code).toBe('TOKEN_INVALID');
      clock.offsetMs = 47 * 3_600_000;
      expect((await post('/verify-email', { token: mail!.token })).status).toBe(200);
    });

    it('tokens are stored only as hashes', async () => {
      const session = await api.register();
      const { mail } = await verificationMail(session.user.id);
      const rows: Array<{ token_hash: string }> = await database.query(
        'SELECT token_hash FROM account_tokens WHERE user_id = $1',
        [session.user.id],
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(row.token_hash).not.toContain(mail!.token);
      }
      expect(mail!.token.length).toBeGreaterThanOrEqual(43); // 32 random bytes, base64url
    });
  });

  describe('IsVerified', () => {
    it('answers 403 EMAIL_NOT_VERIFIED until the address is verified, then lets the same token in', async () => {
      const session = await api.register();
      const refused = await api.get('/api/v1/test-verified', session.accessToken);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('EMAIL_NOT_VERIFIED');
      expect((await api.get('/api/v1/test-verified')).status).toBe(401);

      const { mail } = await verificationMail(session.user.id);
      await post('/verify-email', { token: mail!.token });
      // The token was issued before the verification and says "unverified": it counts at once anyway.
      const allowed = await api.get('/api/v1/test-verified', session.accessToken);
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ id: session.user.id });
    });
  });

  describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
    it('IsAuthenticated routes need a verified address; /users/me, resend, sessions and logout do not', async () => {
      const strict = await withEnv({ REQUIRE_EMAIL_VERIFICATION: 'true' }, () => createApiApp());
      try {
        const client = new ApiClient(strict);
        const session = await client.register();
        const tasks = await client.get('/api/v1/tasks', session.accessToken);
        expect(tasks.status).toBe(403);
        expect(tasks.body.code).toBe('EMAIL_NOT_VERIFIED');
        expect((await client.get('/api/v1/users/me', session.accessToken)).status).toBe(200);
        expect((await client.get('/api/v1/auth/sessions', session.accessToken)).status).toBe(200);
        const resend = await client.send(
          'post',
          '/api/v1/auth/verify-email/resend',
          undefined,
          session.accessToken,
        );
        expect(resend.status).toBe(202);

        const { mail } = await verificationMail(session.user.id);
        await client.send('post', '/api/v1/auth/verify-email', { token: mail!.token });
        expect((await client.get('/api/v1/tasks', session.accessToken)).status).toBe(200);

        // The seeded admin's address counts as verified.
        const strictAdmin = await client.loginAdmin();
        expect(strictAdmin.user.emailVerifiedAt).not.toBeNull();
        expect((await client.get('/api/v1/users', strictAdmin.accessToken)).status).toBe(200);
        expect(
          (await client.send('post', '/api/v1/auth/logout', undefined, session.accessToken)).status,
        ).toBe(204);
      } finally {
        await strict.close();
      }
    });

    it('is off by default: an unverified user uses IsAuthenticated routes', async () => {
      const session = await api.register();
      expect((await api.get('/api/v1/tasks', session.accessToken)).status).toBe(200);
    });
  });

  describe('password reset', () => {
    it('forgot answers the same 202 for known and unknown addresses, and does the same work', async () => {
      const session = await api.register();
      const unknown = uniqueEmail('nobody');
      const known = await forgot(session.user.email.toUpperCase());
      const stranger = await forgot(unknown);
      expect(known.status).toBe(202);
      expect(stranger.status).toBe(202);
      expect(stranger.body).toEqual(known.body);
      expect(stranger.text).toBe(known.text);
      // Both queue one task: the API's work (and time) does not depend on the answer.
      expect((await resetMail(session.user.email)).mail).toBeDefined();
      expect((await resetMail(unknown)).skipped).toBe('no active account has this address');
    });

    it('reset sets the password, verifies the address, ends every session and voids the other links', async () => {
      const session = await api.register();
      const other = await api.login(session.user.email, PASSWORD);
      await forgot(session.user.email);
      const first = await resetMail(session.user.email);
      await forgot(session.user.email);
      const second = await resetMail(session.user.email, first.taskId);
      expect(first.mail!.text).toContain('http://localhost:3000/reset-password?token=');

      const reset = await post('/password/reset', {
        token: second.mail!.token,
        password: 'a-brand-new-password',
      });
      expect(reset.status).toBe(204);

      for (const live of [session, other]) {
        const refused = await me(live.accessToken);
        expect(refused.status).toBe(401);
        expect(refused.body.code).toBe('TOKEN_REVOKED');
        expect((await post('/refresh', { refreshToken: live.refreshToken })).status).toBe(401);
      }
      expect((await post('/login', { email: session.user.email, password: PASSWORD })).status).toBe(
        401,
      );
      const fresh = await api.login(session.user.email, 'a-brand-new-password');
      expect(fresh.user.emailVerifiedAt).not.toBeNull();

      // Used once, and the earlier link died with it.
      for (const token of [second.mail!.token, first.mail!.token]) {
        const reused = await post('/password/reset', { token, password: 'yet-another-password' });
        expect(reused.status).toBe(400);
        expect(reused.body.code).toBe('TOKEN_INVALID');
      }
    });

    it('links expire after PASSWORD_RESET_TTL_MINUTES (30)', async () => {
      const session = await api.register();
      await forgot(session.user.email);
      const { mail } = await resetMail(session.user.email);
      clock.offsetMs = 30 * 60_000 + 1_000;
      const late = await post('/password/reset', { token: mail!.token, password: 'too-late-pass' });
      expect(late.status).toBe(400);
      expect(late.body.code).toBe('TOKEN_INVALID');
      clock.offsetMs = 29 * 60_000;
      expect(
        (await post('/password/reset', { token: mail!.token, password: 'just-in-time' })).status,
      ).toBe(204);
    });

    it('validates the new password and the email like everywhere else (400)', async () => {
      const short = await post('/password/reset', { token: 'x', password: 'short' });
      expect(short.status).toBe(400);
      expect(short.body.errors[0].field).toBe('password');
      const notAnEmail = await forgot('not-an-email');
      expect(notAnEmail.status).toBe(400);
      expect(notAnEmail.body.errors[0].field).toBe('email');
    });

    it('an inactive account gets no mail', async () => {
      const session = await api.register();
      await api.send(
        'patch',
        `/api/v1/users/${session.user.id}`,
        { isActive: false },
        admin.accessToken,
      );
      expect((await forgot(session.user.email)).status).toBe(202);
      expect((await resetMail(session.user.email)).skipped).toBe(
        'no active account has this address',
      );
    });
  });

  describe('sessions', () => {
    it('lists the live sessions with the current one marked; ending one kills its tokens at once', async () => {
      const first = await api.register();
      const second = loginFrom(api, first.user.email, 'Second-Browser/1.0');
      const secondSession = await second;
      const listed = await api.get('/api/v1/auth/sessions', first.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(2);
      const [newest, oldest] = listed.body.items;
      expect(newest).toMatchObject({ userAgent: 'Second-Browser/1.0', current: false });
      expect(oldest).toMatchObject({ current: true });
      expect(Object.keys(newest).sort()).toEqual(
        ['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent'].sort(),
      );

      const ended = await api.send(
        'delete',
        `/api/v1/auth/sessions/${newest.id}`,
        undefined,
        first.accessToken,
      );
      expect(ended.status).toBe(204);
      const refused = await me(secondSession.accessToken);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('TOKEN_REVOKED');
      expect((await post('/refresh', { refreshToken: secondSession.refreshToken })).status).toBe(
        401,
      );
      expect((await me(first.accessToken)).status).toBe(200);
      const after = await api.get('/api/v1/auth/sessions', first.accessToken);
      expect(after.body.items.map((item: { id: string }) => item.id)).toEqual([oldest.id]);

      // Ended already: 404; malformed: 400.
      expect(
        (
          await api.send(
            'delete',
            `/api/v1/auth/sessions/${newest.id}`,
            undefined,
            first.accessToken,
          )
        ).status,
      ).toBe(404);
      expect(
        (await api.send('delete', '/api/v1/auth/sessions/not-a-uuid', undefined, first.accessToken))
          .status,
      ).toBe(400);
    });

    it("another user's session id is 404 and that session lives on", async () => {
      const mine = await api.register();
      const theirs = await api.register();
      const [theirSession] = (await api.get('/api/v1/auth/sessions', theirs.accessToken)).body
        .items;
      const attempt = await api.send(
        'delete',
        `/api/v1/auth/sessions/${theirSession.id}`,
        undefined,
        mine.accessToken,
      );
      expect(attempt.status).toBe(404);
      expect((await me(theirs.accessToken)).status).toBe(200);
    });

    it('a refresh keeps the session id and moves lastUsedAt', async () => {
      const session = await api.register();
      const [before] = (await api.get('/api/v1/auth/sessions', session.accessToken)).body.items;
      await new Promise((resolve) => setTimeout(resolve, 10));
      const refreshed = await post('/refresh', { refreshToken: session.refreshToken });
      const [after] = (await api.get('/api/v1/auth/sessions', refreshed.body.accessToken)).body
        .items;
      expect(after.id).toBe(before.id);
      expect(after.createdAt).toBe(before.createdAt);
      expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(before.lastUsedAt));
      expect(after.current).toBe(true);
    });

    it('logout-all ends every other session with keepCurrent, and all of them without', async () => {
      const current = await api.register();
      const other = await api.login(current.user.email, PASSWORD);
      const kept = await post('/logout-all', { keepCurrent: true }, current.accessToken);
      expect(kept.status).toBe(204);
      expect((await me(other.accessToken)).status).toBe(401);
      expect((await me(current.accessToken)).status).toBe(200);

      const third = await api.login(current.user.email, PASSWORD);
      expect((await post('/logout-all', undefined, current.accessToken)).status).toBe(204);
      for (const session of [current, third]) {
        expect((await me(session.accessToken)).status).toBe(401);
        expect((await post('/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
      }
      expect((await post('/logout-all', { keepCurrent: 'yes' }, third.accessToken)).status).toBe(
        401,
      );
    });

    it('logout-all validates its body', async () => {
      const session = await api.register();
      const bad = await post('/logout-all', { keepCurrent: 'yes' }, session.accessToken);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].field).toBe('keepCurrent');
    });
  });

  describe('rate limits on account mails', () => {
    it('forgot is limited per email (per hour) and per client IP (per minute): 429', async () => {
      const limited = await withEnv(
        {
          ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR: '2',
          ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE: '4',
          REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}-mail-limits`,
        },
        () => createApiApp(),
      );
      try {
        const client = new ApiClient(limited);
        const email = uniqueEmail('limited');
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 3; attempt += 1) {
          statuses.push(
            (await client.send('post', '/api/v1/auth/password/forgot', { email })).status,
          );
        }
        expect(statuses).toEqual([202, 202, 429]);
        const another = await client.send('post', '/api/v1/auth/password/forgot', {
          email: uniqueEmail('other'),
        });
        expect(another.status).toBe(202);
        const blocked = await client.send('post', '/api/v1/auth/password/forgot', {
          email: uniqueEmail('third'),
        });
        expect(blocked.status).toBe(429);
        expect(blocked.body.code).toBe('RATE_LIMITED');
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });
  });
});

/** Signs in from another "device" (its own User-Agent). */
async function loginFrom(api: ApiClient, email: string, userAgent: string): Promise<SessionBody> {
  const response = await api
    .http()
    .post('/api/v1/auth/login')
    .set('User-Agent', userAgent)
    .send({ email, password: PASSWORD });
  if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
  return response.body as SessionBody;
}

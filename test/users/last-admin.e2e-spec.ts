import type { INestApplication } from '@nestjs/common';
import { UsersService } from '@girder/users';
import { DataSource } from 'typeorm';
import { ApiClient, uniqueEmail, type SessionBody } from '../support/api-client';
import { createIsolatedDatabase } from '../support/isolated-database';
import { createApiApp, withEnv } from '../support/test-app';

const SOLO = { email: 'solo-admin@example.com', password: 'solo-admin-password' };

/**
 * A database of its own, so "the only admin" is a state this suite controls: the shared one
 * has an admin per suite.
 */
describe('admins: the seed and the last active admin', () => {
  let database: { url: string; drop: () => Promise<void> };
  let app: INestApplication;
  let api: ApiClient;

  const admins = () =>
    app
      .get(DataSource)
      .query<Array<{ email: string }>>(
        `SELECT email FROM users WHERE role = 'admin' ORDER BY email`,
      );

  beforeAll(async () => {
    database = await createIsolatedDatabase('admins');
  });
  afterAll(async () => {
    await app?.close();
    await database.drop();
  });

  it('an empty ADMIN_EMAIL and ADMIN_PASSWORD seed no admin (not the development one)', async () => {
    app = await withEnv({ DATABASE_URL: database.url, ADMIN_EMAIL: '', ADMIN_PASSWORD: '' }, () =>
      createApiApp(),
    );
    api = new ApiClient(app);
    expect(await admins()).toEqual([]);
    const login = await api.send('post', '/api/v1/auth/login', {
      email: 'admin@girder.local',
      password: 'change-me-admin-password',
    });
    expect(login.status).toBe(401);
    await app.close();
  });

  describe('with one seeded admin', () => {
    let solo: SessionBody;
    beforeAll(async () => {
      app = await withEnv(
        { DATABASE_URL: database.url, ADMIN_EMAIL: SOLO.email, ADMIN_PASSWORD: SOLO.password },
        () => createApiApp(),
      );
      api = new ApiClient(app);
      solo = await api.login(SOLO.email, SOLO.password);
    });

    const patch = (id: string, body: object, token = solo.accessToken) =>
      api.send('patch', `/api/v1/users/${id}`, body, token);

    it('the last active admin cannot be demoted, deactivated or deleted: 409 LAST_ADMIN', async () => {
      expect(await admins()).toEqual([{ email: SOLO.email }]);
      for (const response of [
        await patch(solo.user.id, { role: 'user' }),
        await patch(solo.user.id, { isActive: false }),
        await api.send('delete', `/api/v1/users/${solo.user.id}`, undefined, solo.accessToken),
      ]) {
        expect(response.status).toBe(409);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.body.code).toBe('LAST_ADMIN');
      }
      expect((await api.get('/api/v1/users/me', solo.accessToken)).body).toMatchObject({
        role: 'admin',
        isActive: true,
      });
    });

    it('with a second admin the first can step down, and then the second is the last', async () => {
      const deputy = await api.register({ password: 'deputy-password' });
      expect((await patch(deputy.user.id, { role: 'admin' })).status).toBe(200);
      const deputyAdmin = await api.login(deputy.user.email, 'deputy-password');

      expect((await patch(solo.user.id, { role: 'user' }, deputyAdmin.accessToken)).status).toBe(
        200,
      );
      const last = await patch(deputy.user.id, { isActive: false }, deputyAdmin.accessToken);
      expect(last.body.code).toBe('LAST_ADMIN');
      // Restore the solo admin for the next test.
      expect((await patch(solo.user.id, { role: 'admin' }, deputyAdmin.accessToken)).status).toBe(
        200,
      );
      solo = await api.login(SOLO.email, SOLO.password);
      expect((await patch(deputy.user.id, { role: 'user' })).status).toBe(200);
    });

    it('two admins demoting each other at the same moment: one succeeds, one gets LAST_ADMIN', async () => {
      const email = uniqueEmail('rival');
      await api.send(
        'post',
        '/api/v1/users',
        { email, password: 'rival-password', name: 'Rival', role: 'admin' },
        solo.accessToken,
      );
      const rival = await api.login(email, 'rival-password');
      // Straight to the service: over HTTP, the first demotion's revocation could refuse the
      // second request's token before it reaches the check this test is about.
      const users = app.get(UsersService);
      const outcomes = await Promise.allSettled([
        users.update(rival.user.id, { role: 'user' }),
        users.update(solo.user.id, { role: 'user' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected');
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'LAST_ADMIN' });
      expect(await admins()).toHaveLength(1);
    });
  });
});

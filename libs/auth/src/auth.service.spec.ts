import { AppConfig } from '@girder/config';
import type { CurrentUser } from '@girder/permissions';
import { UsersService, type UserDto } from '@girder/users';
import { createHash } from 'node:crypto';
import { newTestService, problemOf } from '../../../test/unit/new-test-service';
import { AccessTokenService } from './access-token.service';
import { AuthService } from './auth.service';
import { SessionRevocations } from './revocations/session-revocations';
import type { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import {
  transactionOutcomes,
  type RecordingModule,
} from '../../../test/unit/recording-transactional';

// No database: @Transactional() runs the method as it is and records whether it returned
// (would commit) or threw (would roll back).
jest.mock('@girder/database', () => ({
  ...jest.requireActual<object>('@girder/database'),
  Transactional: jest.requireActual<RecordingModule>('../../../test/unit/recording-transactional')
    .RecordingTransactional,
}));

const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const REFRESH_TTL_S = 30 * 24 * 3600;
const USER_ID = '6a1f0c52-58a3-4c8e-9d0b-1f2e3d4c5b6a';
const FAMILY = 'c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b';
const TOKEN = 'presented-refresh-token';

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

function session(overrides: Partial<Session> = {}): Session {
  return {
    id: 'session-1',
    userId: USER_ID,
    family: FAMILY,
    tokenHash: sha256(TOKEN),
    expiresAt: new Date(NOW + 60_000),
    usedAt: null,
    revokedAt: null,
    ip: null,
    userAgent: null,
    createdAt: new Date(NOW - 60_000),
    updatedAt: new Date(NOW - 60_000),
    ...overrides,
  };
}

const ada: UserDto = {
  id: USER_ID,
  email: 'ada@example.com',
  name: 'Ada',
  role: 'user',
  isActive: true,
  emailVerifiedAt: null,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
};

describe('AuthService', () => {
  let service: AuthService;
  let users: jest.Mocked<UsersService>;
  let sessions: jest.Mocked<SessionsRepository>;
  let revocations: jest.Mocked<SessionRevocations>;
  let accessTokens: jest.Mocked<AccessTokenService>;

  beforeEach(async () => {
    transactionOutcomes.length = 0;
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    const config = {
      get: (key: string) => (key === 'JWT_REFRESH_TTL' ? REFRESH_TTL_S : undefined),
    };
    const built = await newTestService(AuthService, [{ provide: AppConfig, useValue: config }]);
    service = built.sut;
    users = built.mock(UsersService);
    sessions = built.mock(SessionsRepository);
    revocations = built.mock(SessionRevocations);
    accessTokens = built.mock(AccessTokenService);
    Object.assign(accessTokens, { ttlSeconds: 900 });
    accessTokens.sign.mockResolvedValue('signed-access-token');
    users.findIdentity.mockResolvedValue({ id: USER_ID, role: 'user', isActive: true });
    users.get.mockResolvedValue(ada);
    sessions.revokeAllOfUser.mockResolvedValue([FAMILY, 'other-family']);
  });

  afterEach(() => jest.restoreAllMocks());

  describe('refresh', () => {
    const refresh = () => service.refresh(TOKEN, { ip: '203.0.113.7', userAgent: 'curl/8' });

    /** Nothing was rotated: no token marked used, no session issued. */
    const expectNoRotation = () => {
      expect(sessions.markUsed).not.toHaveBeenCalled();
      expect(sessions.insert).not.toHaveBeenCalled();
      expect(accessTokens.sign).not.toHaveBeenCalled();
    };

    it('looks the session up by the SHA-256 of the token', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(null);
      await problemOf(refresh());
      expect(sessions.findByHashForUpdate).toHaveBeenCalledWith(sha256(TOKEN));
    });

    it('answers 401 UNAUTHENTICATED for an unknown token', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(null);

      expect(await problemOf(refresh())).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expectNoRotation();
    });

    it('answers 401 TOKEN_REVOKED for a revoked session, revoking nothing more', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(
        session({ revokedAt: new Date(NOW - 1_000), usedAt: new Date(NOW - 2_000) }),
      );

      expect(await problemOf(refresh())).toMatchObject({
        code: 'TOKEN_REVOKED',
        status: 401,
        detail: 'This session has been revoked.',
      });
      expect(sessions.revokeAllOfUser).not.toHaveBeenCalled();
      expectNoRotation();
    });

    it('revokes every session of the user when a used token comes back, and answers TOKEN_REVOKED', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session({ usedAt: new Date(NOW - 1_000) }));

      expect(await problemOf(refresh())).toMatchObject({
        code: 'TOKEN_REVOKED',
        status: 401,
        detail: 'This refresh token was already used: every session of the account is revoked.',
      });
      expect(sessions.revokeAllOfUser).toHaveBeenCalledWith(USER_ID, undefined);
      expect(revocations.revoke).toHaveBeenCalledWith([FAMILY, 'other-family']);
      expectNoRotation();
    });

    it('commits the revocation of a reused token: the 401 is thrown after the transaction', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session({ usedAt: new Date(NOW - 1_000) }));

      await problemOf(refresh());

      expect(transactionOutcomes).toEqual([
        { method: 'revokeAllSessionsOf', outcome: 'committed' },
        { method: 'rotate', outcome: 'committed' },
      ]);
    });

    it.each([
      ['in the past', NOW - 1],
      ['right now', NOW],
    ])('answers 401 UNAUTHENTICATED for a token that expired %s', async (_, expiresAt) => {
      sessions.findByHashForUpdate.mockResolvedValue(session({ expiresAt: new Date(expiresAt) }));

      expect(await problemOf(refresh())).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expectNoRotation();
    });

    it('answers 401 UNAUTHENTICATED when the user is inactive', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session());
      users.findIdentity.mockResolvedValue({ id: USER_ID, role: 'user', isActive: false });

      expect(await problemOf(refresh())).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expect(users.findIdentity).toHaveBeenCalledWith(USER_ID);
      expectNoRotation();
    });

    it('answers 401 UNAUTHENTICATED when the user no longer exists', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session());
      users.findIdentity.mockResolvedValue(null);

      expect(await problemOf(refresh())).toMatchObject({ code: 'UNAUTHENTICATED' });
      expectNoRotation();
    });

    it('marks a valid token used and issues a new one in the same family', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session());

      const rotated = await refresh();

      expect(sessions.markUsed).toHaveBeenCalledWith('session-1');
      expect(rotated).toEqual({
        accessToken: 'signed-access-token',
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        user: ada,
      });
      expect(rotated.refreshToken).not.toBe(TOKEN);
      expect(sessions.insert).toHaveBeenCalledWith({
        userId: USER_ID,
        family: FAMILY,
        tokenHash: sha256(rotated.refreshToken),
        expiresAt: new Date(NOW + REFRESH_TTL_S * 1000),
        ip: '203.0.113.7',
        userAgent: 'curl/8',
      });
      expect(accessTokens.sign).toHaveBeenCalledWith(
        { id: USER_ID, role: 'user', emailVerified: false },
        FAMILY,
      );
      expect(sessions.revokeAllOfUser).not.toHaveBeenCalled();
    });

    it('stores the client’s address and user agent cut to their column sizes', async () => {
      sessions.findByHashForUpdate.mockResolvedValue(session());

      await service.refresh(TOKEN, { ip: '1'.repeat(100), userAgent: 'a'.repeat(1_000) });
      await service.refresh(TOKEN, {});

      expect(sessions.insert.mock.calls.map(([row]) => [row.ip, row.userAgent])).toEqual([
        ['1'.repeat(64), 'a'.repeat(512)],
        [null, null],
      ]);
    });
  });

  describe('logout', () => {
    it('revokes the family of the caller’s session in the database and in Redis', async () => {
      const caller: CurrentUser = {
        id: USER_ID,
        role: 'user',
        sessionId: FAMILY,
        emailVerified: true,
      };

      await service.logout(caller);

      expect(sessions.revokeFamily).toHaveBeenCalledWith(FAMILY);
      expect(revocations.revoke).toHaveBeenCalledWith([FAMILY]);
      expect(sessions.revokeAllOfUser).not.toHaveBeenCalled();
    });
  });

  describe('revokeAllSessionsOf', () => {
    it('revokes every family of the user found live', async () => {
      await service.revokeAllSessionsOf(USER_ID);

      expect(sessions.revokeAllOfUser).toHaveBeenCalledWith(USER_ID, undefined);
      expect(revocations.revoke).toHaveBeenCalledWith([FAMILY, 'other-family']);
    });

    it('passes the family to keep through', async () => {
      sessions.revokeAllOfUser.mockResolvedValue(['other-family']);

      await service.revokeAllSessionsOf(USER_ID, FAMILY);

      expect(sessions.revokeAllOfUser).toHaveBeenCalledWith(USER_ID, FAMILY);
      expect(revocations.revoke).toHaveBeenCalledWith(['other-family']);
    });
  });
});

import type { CurrentUser } from '@girder/permissions';
import { TasksService } from '@girder/tasks';
import { UsersService, type UserDto } from '@girder/users';
import { newTestService, problemOf } from '../../../../test/unit/new-test-service';
import {
  transactionOutcomes,
  type RecordingModule,
} from '../../../../test/unit/recording-transactional';
import { AuthService } from '../auth.service';
import { SessionRevocations } from '../revocations/session-revocations';
import { SessionsRepository } from '../sessions.repository';
import { AccountTokensRepository } from './account-tokens.repository';
import { AccountService } from './account.service';

// No database: @Transactional() runs the method and records whether it would commit.
jest.mock('@girder/database', () => ({
  ...jest.requireActual<object>('@girder/database'),
  Transactional: jest.requireActual<RecordingModule>(
    '../../../../test/unit/recording-transactional',
  ).RecordingTransactional,
}));

const USER_ID = '6a1f0c52-58a3-4c8e-9d0b-1f2e3d4c5b6a';
const SESSION_ID = 'c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b';
const EMAIL = 'ada@example.com';
const caller: CurrentUser = {
  id: USER_ID,
  role: 'user',
  sessionId: SESSION_ID,
  emailVerified: false,
};
const ada = { id: USER_ID, email: EMAIL, emailVerifiedAt: '2024-05-01T10:00:00.000Z' } as UserDto;

describe('AccountService', () => {
  let service: AccountService;
  let users: jest.Mocked<UsersService>;
  let tokens: jest.Mocked<AccountTokensRepository>;
  let sessions: jest.Mocked<SessionsRepository>;
  let revocations: jest.Mocked<SessionRevocations>;
  let auth: jest.Mocked<AuthService>;
  let tasks: jest.Mocked<TasksService>;

  beforeEach(async () => {
    transactionOutcomes.length = 0;
    const built = await newTestService(AccountService);
    service = built.sut;
    users = built.mock(UsersService);
    tokens = built.mock(AccountTokensRepository);
    sessions = built.mock(SessionsRepository);
    revocations = built.mock(SessionRevocations);
    auth = built.mock(AuthService);
    tasks = built.mock(TasksService);
  });

  describe('verifyEmail', () => {
    it('verifies the address the token was sent to', async () => {
      tokens.consume.mockResolvedValue({ userId: USER_ID, email: EMAIL });
      users.markEmailVerified.mockResolvedValue(ada);
      await expect(service.verifyEmail('token')).resolves.toBe(ada);
      expect(tokens.consume).toHaveBeenCalledWith('token', 'verify-email');
      expect(users.markEmailVerified).toHaveBeenCalledWith(USER_ID, EMAIL);
      expect(transactionOutcomes.map(({ outcome }) => outcome)).toEqual(['committed']);
    });

    it('an unknown, used, expired or wrong-purpose token is TOKEN_INVALID', async () => {
      tokens.consume.mockResolvedValue(null);
      expect((await problemOf(service.verifyEmail('token'))).code).toBe('TOKEN_INVALID');
      expect(users.markEmailVerified).not.toHaveBeenCalled();
    });

    it('a token for an address the user no longer has is TOKEN_INVALID, and stays unused (rolled back)', async () => {
      tokens.consume.mockResolvedValue({ userId: USER_ID, email: 'old@example.com' });
      users.markEmailVerified.mockResolvedValue(null);
      expect((await problemOf(service.verifyEmail('token'))).code).toBe('TOKEN_INVALID');
      expect(transactionOutcomes.map(({ outcome }) => outcome)).toEqual(['rolled back']);
    });
  });

  describe('resetPassword', () => {
    it('sets the password for the token’s user and address, then voids the other reset tokens', async () => {
      tokens.consume.mockResolvedValue({ userId: USER_ID, email: EMAIL });
      users.resetPassword.mockResolvedValue(true);
      await service.resetPassword('token', 'new-password');
      expect(tokens.consume).toHaveBeenCalledWith('token', 'reset-password');
      expect(users.resetPassword).toHaveBeenCalledWith(USER_ID, EMAIL, 'new-password');
      expect(tokens.voidOutstanding).toHaveBeenCalledWith(USER_ID, 'reset-password');
      expect(transactionOutcomes.map(({ outcome }) => outcome)).toEqual(['committed']);
    });

    it('refuses a bad token before touching the user', async () => {
      tokens.consume.mockResolvedValue(null);
      expect((await problemOf(service.resetPassword('token', 'new-password'))).code).toBe(
        'TOKEN_INVALID',
      );
      expect(users.resetPassword).not.toHaveBeenCalled();
      expect(tokens.voidOutstanding).not.toHaveBeenCalled();
    });

    it('refuses a token whose address is no longer the user’s, and rolls back', async () => {
      tokens.consume.mockResolvedValue({ userId: USER_ID, email: 'old@example.com' });
      users.resetPassword.mockResolvedValue(false);
      expect((await problemOf(service.resetPassword('token', 'new-password'))).code).toBe(
        'TOKEN_INVALID',
      );
      expect(tokens.voidOutstanding).not.toHaveBeenCalled();
      expect(transactionOutcomes.map(({ outcome }) => outcome)).toEqual(['rolled back']);
    });
  });

  it('forgotPassword queues the mail task for any address, normalised', async () => {
    await service.forgotPassword('  Ada@Example.COM ');
    expect(tasks.submitAsSystem).toHaveBeenCalledWith('account.password-reset-mail', {
      email: EMAIL,
    });
  });

  it('resendVerification queues the mail task for the caller', async () => {
    await service.resendVerification(caller);
    expect(tasks.submitAsSystem).toHaveBeenCalledWith('account.verify-email-mail', {
      userId: USER_ID,
    });
  });

  describe('sessions', () => {
    it('lists sessions with the caller’s own marked current', async () => {
      const at = new Date('2024-05-01T10:00:00.000Z');
      sessions.listLive.mockResolvedValue([
        { id: 'other', createdAt: at, lastUsedAt: at, userAgent: 'curl/8', ip: '203.0.113.7' },
        { id: SESSION_ID, createdAt: at, lastUsedAt: at, userAgent: null, ip: null },
      ]);
      const listed = await service.listSessions(caller);
      expect(listed.map((session) => [session.id, session.current])).toEqual([
        ['other', false],
        [SESSION_ID, true],
      ]);
      expect(listed[0]).toMatchObject({ createdAt: at.toISOString(), userAgent: 'curl/8' });
      expect(sessions.listLive).toHaveBeenCalledWith(USER_ID, 100);
    });

    it('endSession revokes a live session of the caller at once', async () => {
      sessions.revokeFamilyOf.mockResolvedValue(true);
      await service.endSession(caller, 'other');
      expect(sessions.revokeFamilyOf).toHaveBeenCalledWith(USER_ID, 'other');
      expect(revocations.revoke).toHaveBeenCalledWith(['other']);
    });

    it('endSession on a session that is not the caller’s (or not live) is 404 and revokes nothing', async () => {
      sessions.revokeFamilyOf.mockResolvedValue(false);
      expect((await problemOf(service.endSession(caller, 'theirs'))).code).toBe('NOT_FOUND');
      expect(revocations.revoke).not.toHaveBeenCalled();
    });

    it('logoutAll keeps the current session only when asked', async () => {
      await service.logoutAll(caller, true);
      expect(auth.revokeAllSessionsOf).toHaveBeenLastCalledWith(USER_ID, SESSION_ID);
      await service.logoutAll(caller, false);
      expect(auth.revokeAllSessionsOf).toHaveBeenLastCalledWith(USER_ID, undefined);
    });
  });
});

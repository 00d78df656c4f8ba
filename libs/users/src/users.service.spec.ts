import { EventEmitter2 } from '@nestjs/event-emitter';
import { CacheService } from '@girder/cache';
import { afterCommit } from '@girder/database';
import { newTestService, problemOf } from '../../../test/unit/new-test-service';
import type { UpdateUserDto } from './dto/update-user.dto';
import { PasswordHasher } from './password-hasher';
import { USER_ACCESS_REVOKED, UserAccessRevoked } from './user.events';
import type { User } from './user.entity';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import type { RecordingModule } from '../../../test/unit/recording-transactional';

// No database: @Transactional() runs the method as it is, and afterCommit() only records its
// hook, so a test can tell what happens now from what waits for the commit.
jest.mock('@girder/database', () => ({
  ...jest.requireActual<object>('@girder/database'),
  Transactional: jest.requireActual<RecordingModule>('../../../test/unit/recording-transactional')
    .RecordingTransactional,
  afterCommit: jest.fn(),
}));

const ID = '6a1f0c52-58a3-4c8e-9d0b-1f2e3d4c5b6a';
const OTHER_ADMIN = '7b2a1d63-69b4-4d9f-8e1c-2a3b4c5d6e7f';

function user(overrides: Partial<User> = {}): User {
  return {
    id: ID,
    email: 'ada@example.com',
    name: 'Ada',
    role: 'user',
    isActive: true,
    emailVerifiedAt: null,
    passwordHash: '$argon2id$old',
    createdAt: new Date('2024-05-01T10:00:00.000Z'),
    updatedAt: new Date('2024-05-01T10:00:00.000Z'),
    ...overrides,
  };
}

describe('UsersService', () => {
  let service: UsersService;
  let users: jest.Mocked<UsersRepository>;
  let hasher: jest.Mocked<PasswordHasher>;
  let events: jest.Mocked<EventEmitter2>;
  let cache: jest.Mocked<CacheService>;

  /** The UserAccessRevoked events emitted so far. */
  const revocations = () =>
    events.emitAsync.mock.calls
      .filter(([name]) => name === USER_ACCESS_REVOKED)
      .map(([, event]) => event as UserAccessRevoked);

  const runAfterCommitHooks = async () => {
    for (const [hook] of jest.mocked(afterCommit).mock.calls) await hook();
  };

  beforeEach(async () => {
    jest.mocked(afterCommit).mockClear();
    const built = await newTestService(UsersService);
    service = built.sut;
    users = built.mock(UsersRepository);
    hasher = built.mock(PasswordHasher);
    events = built.mock(EventEmitter2);
    cache = built.mock(CacheService);
    hasher.hash.mockImplementation(async (password) => `hashed(${password})`);
  });

  describe('updateMe', () => {
    beforeEach(() => {
      users.findWithHashById.mockResolvedValue(user());
      users.findById.mockResolvedValue(user());
    });

    it('answers 400 for a wrong currentPassword and writes nothing', async () => {
      hasher.verify.mockResolvedValue(false);

      const problem = await problemOf(
        service.updateMe(ID, { password: 'new-password-1', currentPassword: 'wrong' }, 's1'),
      );

      expect(problem).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        errors: [{ field: 'currentPassword', message: 'currentPassword is not correct' }],
      });
      expect(hasher.verify).toHaveBeenCalledWith('$argon2id$old', 'wrong');
      expect(hasher.hash).not.toHaveBeenCalled();
      expect(users.update).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it('checks an absent currentPassword as an empty one', async () => {
      hasher.verify.mockResolvedValue(false);

      await problemOf(service.updateMe(ID, { password: 'new-password-1' }, 's1'));

      expect(hasher.verify).toHaveBeenCalledWith('$argon2id$old', '');
    });

    it('hashes and writes a new password and revokes every other session', async () => {
      hasher.verify.mockResolvedValue(true);

      await service.updateMe(
        ID,
        { password: 'new-password-1', currentPassword: 'old-password-1' },
        'caller-session',
      );

      expect(users.update).toHaveBeenCalledWith(ID, { passwordHash: 'hashed(new-password-1)' });
      expect(revocations()).toEqual([
        new UserAccessRevoked(ID, 'password-changed', 'caller-session'),
      ]);
    });

    it('changes the name alone without revoking any session', async () => {
      const renamed = await service.updateMe(ID, { name: 'Ada L.' }, 's1');

      expect(users.update).toHaveBeenCalledWith(ID, { name: 'Ada L.' });
      expect(hasher.verify).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
      expect(renamed).toMatchObject({ id: ID, email: 'ada@example.com' });
      expect(renamed).not.toHaveProperty('passwordHash');
    });

    it('writes nothing when neither name nor password is given', async () => {
      await service.updateMe(ID, {}, 's1');

      expect(users.update).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it('invalidates the user’s cache tag now and again after commit', async () => {
      await service.updateMe(ID, { name: 'Ada L.' }, 's1');
      expect(cache.invalidateTags).toHaveBeenCalledTimes(1);
      expect(cache.invalidateTags).toHaveBeenCalledWith([`users:${ID}`]);

      await runAfterCommitHooks();
      expect(cache.invalidateTags).toHaveBeenCalledTimes(2);
      expect(cache.invalidateTags).toHaveBeenLastCalledWith([`users:${ID}`]);
    });

    it('answers 404 for an unknown user', async () => {
      users.findWithHashById.mockResolvedValue(null);

      expect(await problemOf(service.updateMe(ID, { name: 'x' }, 's1'))).toMatchObject({
        code: 'NOT_FOUND',
      });
    });
  });

  describe('update (admin)', () => {
    const onlyAdmin = () => {
      users.findById.mockResolvedValue(user({ role: 'admin' }));
      users.lockActiveAdmins.mockResolvedValue([ID]);
    };

    it('answers 404 for an unknown id', async () => {
      users.findById.mockResolvedValue(null);

      expect(await problemOf(service.update(ID, { name: 'x' }))).toMatchObject({
        code: 'NOT_FOUND',
        status: 404,
      });
      expect(users.update).not.toHaveBeenCalled();
    });

    it.each<[UserAccessRevoked['reason'], UpdateUserDto, User]>([
      ['deactivated', { isActive: false }, user()],
      ['demoted', { role: 'user' }, user({ role: 'admin' })],
      ['password-changed', { password: 'new-password-1' }, user()],
    ])('revokes access as %s', async (reason, changes, before) => {
      users.findById.mockResolvedValue(before);
      users.lockActiveAdmins.mockResolvedValue([ID, OTHER_ADMIN]);

      await service.update(ID, changes);

      expect(revocations()).toEqual([new UserAccessRevoked(ID, reason)]);
    });

    it('names deactivation as the reason when an admin is demoted and deactivated at once', async () => {
      users.findById.mockResolvedValue(user({ role: 'admin' }));
      users.lockActiveAdmins.mockResolvedValue([ID, OTHER_ADMIN]);

      await service.update(ID, { role: 'user', isActive: false, password: 'new-password-1' });

      expect(revocations()).toEqual([new UserAccessRevoked(ID, 'deactivated')]);
    });

    it('writes only the fields given, with the new password hashed', async () => {
      users.findById.mockResolvedValue(user());

      await service.update(ID, { name: 'Ada L.', role: undefined, password: 'new-password-1' });

      expect(users.update.mock.calls).toStrictEqual([
        [ID, { name: 'Ada L.', passwordHash: 'hashed(new-password-1)' }],
      ]);
    });

    it('writes nothing when no field is given (an empty UPDATE is an error)', async () => {
      users.findById.mockResolvedValue(user());

      await service.update(ID, { name: undefined });

      expect(users.update).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it('revokes nothing for a rename, a promotion or re-activating a user', async () => {
      users.findById.mockResolvedValue(user({ isActive: false }));

      await service.update(ID, { name: 'Ada L.', role: 'admin', isActive: true });

      expect(events.emitAsync).not.toHaveBeenCalled();
      expect(users.lockActiveAdmins).not.toHaveBeenCalled();
    });

    it('does not treat an unchanged role or active flag as a demotion or deactivation', async () => {
      users.findById.mockResolvedValue(user({ role: 'user', isActive: false }));

      await service.update(ID, { role: 'user', isActive: false });

      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it.each<[string, UpdateUserDto]>([
      ['demoted', { role: 'user' }],
      ['deactivated', { isActive: false }],
    ])('refuses with 409 LAST_ADMIN when the last active admin would be %s', async (_, changes) => {
      onlyAdmin();

      expect(await problemOf(service.update(ID, changes))).toMatchObject({
        code: 'LAST_ADMIN',
        status: 409,
      });
      expect(users.update).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it('demotes an admin while another active admin remains', async () => {
      users.findById.mockResolvedValue(user({ role: 'admin' }));
      users.lockActiveAdmins.mockResolvedValue([OTHER_ADMIN, ID]);

      await service.update(ID, { role: 'user' });

      expect(users.update).toHaveBeenCalledWith(ID, { role: 'user' });
    });

    it('lets the last admin change their name or password', async () => {
      onlyAdmin();

      await service.update(ID, { name: 'Root', password: 'new-password-1' });

      expect(users.update).toHaveBeenCalled();
      expect(users.lockActiveAdmins).not.toHaveBeenCalled();
    });

    it('invalidates the user’s cache tag now and again after commit', async () => {
      users.findById.mockResolvedValue(user());

      await service.update(ID, { name: 'Ada L.' });
      await runAfterCommitHooks();

      expect(cache.invalidateTags.mock.calls).toEqual([[[`users:${ID}`]], [[`users:${ID}`]]]);
    });
  });

  describe('delete', () => {
    it('refuses with 409 LAST_ADMIN to delete the last active admin', async () => {
      users.findById.mockResolvedValue(user({ role: 'admin' }));
      users.lockActiveAdmins.mockResolvedValue([ID]);

      expect(await problemOf(service.delete(ID))).toMatchObject({ code: 'LAST_ADMIN' });
      expect(users.delete).not.toHaveBeenCalled();
      expect(events.emitAsync).not.toHaveBeenCalled();
    });

    it('deletes an admin while another active admin remains, revoking their access first', async () => {
      users.findById.mockResolvedValue(user({ role: 'admin' }));
      users.lockActiveAdmins.mockResolvedValue([ID, OTHER_ADMIN]);

      await service.delete(ID);

      expect(revocations()).toEqual([new UserAccessRevoked(ID, 'deleted')]);
      expect(events.emitAsync.mock.invocationCallOrder[0]).toBeLessThan(
        users.delete.mock.invocationCallOrder[0],
      );
      expect(users.delete).toHaveBeenCalledWith(ID);
      expect(cache.invalidateTags).toHaveBeenCalledWith([`users:${ID}`]);
    });

    it('deletes an inactive admin without counting admins', async () => {
      users.findById.mockResolvedValue(user({ role: 'admin', isActive: false }));

      await service.delete(ID);

      expect(users.lockActiveAdmins).not.toHaveBeenCalled();
      expect(users.delete).toHaveBeenCalledWith(ID);
    });

    it('answers 404 for an unknown id', async () => {
      users.findById.mockResolvedValue(null);

      expect(await problemOf(service.delete(ID))).toMatchObject({ code: 'NOT_FOUND' });
      expect(users.delete).not.toHaveBeenCalled();
    });
  });
});

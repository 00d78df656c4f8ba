import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { CacheService } from '@girder/cache';
import { Transactional, afterCommit } from '@girder/database';
import { ProblemException } from '@girder/errors';
import { decodeCursor, toPage, type Page } from '@girder/http';
import { ROLES, type UserRole } from '@girder/permissions';
import { normaliseEmail } from './email';
import { PasswordHasher } from './password-hasher';
import { UserDto } from './dto/user.dto';
import type { CreateUserDto } from './dto/create-user.dto';
import type { ListUsersQuery } from './dto/list-users.query';
import type { UpdateMeDto } from './dto/update-me.dto';
import type { UpdateUserDto } from './dto/update-user.dto';
import {
  USER_ACCESS_REVOKED,
  USER_REGISTERED,
  UserAccessRevoked,
  UserRegistered,
} from './user.events';
import { userCacheTag } from './user-cache-tag';
import type { User } from './user.entity';
import { UsersRepository } from './users.repository';

/** What other features may know about a user besides its public shape. */
export interface UserIdentity {
  id: string;
  role: UserRole;
  isActive: boolean;
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger('UsersService');

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly events: EventEmitter2,
    private readonly cache: CacheService,
  ) {}

  /** Self-registration: always role `user`; publishes UserRegistered after commit. */
  @Transactional()
  async register(input: Pick<CreateUserDto, 'email' | 'password' | 'name'>): Promise<UserDto> {
    return this.createUser({ ...input, role: 'user' });
  }

  @Transactional()
  async create(input: CreateUserDto): Promise<UserDto> {
    return this.createUser(input);
  }

  /**
   * Checks an email and password. Unknown emails, wrong passwords and inactive users all
   * answer null after the same argon2 work, so callers cannot tell them apart.
   */
  async verifyCredentials(email: string, password: string): Promise<UserDto | null> {
    const user = await this.users.findWithHashByEmail(normaliseEmail(email));
    if (!user) return this.hasher.verifyAgainstDummy(password).then(() => null);
    const valid = await this.hasher.verify(user.passwordHash, password);
    return valid && user.isActive ? UserDto.from(user) : null;
  }

  async findIdentity(id: string): Promise<UserIdentity | null> {
    const user = await this.users.findById(id);
    return user ? { id: user.id, role: user.role, isActive: user.isActive } : null;
  }

  async findById(id: string): Promise<UserDto | null> {
    const user = await this.users.findById(id);
    return user ? UserDto.from(user) : null;
  }

  /** The user with this (normalised) email, or null. */
  async findByEmail(email: string): Promise<UserDto | null> {
    const user = await this.users.findByEmail(normaliseEmail(email));
    return user ? UserDto.from(user) : null;
  }

  async isEmailVerified(id: string): Promise<boolean> {
    const user = await this.users.findById(id);
    return user?.emailVerifiedAt != null;
  }

  /**
   * Records that the owner of `email` read a mail sent there. Null when the user is gone or no
   * longer has that address (a link sent to an old address verifies nothing).
   */
  @Transactional()
  async markEmailVerified(id: string, email: string): Promise<UserDto | null> {
    if (!(await this.users.markEmailVerified(id, email))) return null;
    await this.forgetCached(id);
    return this.get(id);
  }

  /**
   * Sets a new password through a reset link sent to `email`: the address counts as verified
   * and every session of the user ends. False when the user no longer has that address.
   */
  @Transactional()
  async resetPassword(id: string, email: string, password: string): Promise<boolean> {
    const user = await this.users.findById(id);
    if (!user || user.email !== email) return false;
    await this.users.update(id, {
      passwordHash: await this.hasher.hash(password),
      emailVerifiedAt: user.emailVerifiedAt ?? new Date(),
    });
    await this.forgetCached(id);
    await this.events.emitAsync(USER_ACCESS_REVOKED, new UserAccessRevoked(id, 'password-changed'));
    return true;
  }

  async get(id: string): Promise<UserDto> {
    const user = await this.users.findById(id);
    if (!user) throw new ProblemException('NOT_FOUND', 'No user with this id.');
    return UserDto.from(user);
  }

  async list(query: ListUsersQuery): Promise<Page<UserDto>> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.users.page(
      { email: query.email, role: query.role },
      query.limit,
      after,
    );
    return toPage(rows, query.limit, (user) => UserDto.from(user));
  }

  /**
   * The caller changes their own name or password. A new password needs the current one and
   * ends every other session of the user at once; `currentSession` (the caller's) stays valid.
   */
  @Transactional()
  async updateMe(id: string, changes: UpdateMeDto, currentSession: string): Promise<UserDto> {
    const user = await this.users.findWithHashById(id);
    if (!user) throw new ProblemException('NOT_FOUND', 'No user with this id.');
    const update: { name?: string; passwordHash?: string } = {};
    if (changes.name !== undefined) update.name = changes.name;
    if (changes.password !== undefined) {
      if (!(await this.hasher.verify(user.passwordHash, changes.currentPassword ?? ''))) {
        throw new ProblemException('VALIDATION_FAILED', 'currentPassword is not correct', [
          { field: 'currentPassword', message: 'currentPassword is not correct' },
        ]);
      }
      update.passwordHash = await this.hasher.hash(changes.password);
    }
    if (Object.keys(update).length > 0) await this.users.update(id, update);
    await this.forgetCached(id);
    if (update.passwordHash) {
      await this.events.emitAsync(
        USER_ACCESS_REVOKED,
        new UserAccessRevoked(id, 'password-changed', currentSession),
      );
    }
    return this.get(id);
  }

  /**
   * Admin update. Revocations are announced inside the transaction: if revoking the sessions
   * fails, the change fails too (fail closed), never the other way round. The last active
   * admin cannot be demoted or deactivated (409 LAST_ADMIN).
   */
  @Transactional()
  async update(id: string, changes: UpdateUserDto): Promise<UserDto> {
    const before = await this.users.findById(id);
    if (!before) throw new ProblemException('NOT_FOUND', 'No user with this id.');
    const demoted = before.role === ROLES.admin && changes.role === ROLES.user;
    const deactivated = before.isActive && changes.isActive === false;
    if (demoted || deactivated) await this.keepAnAdminBesides(before);

    const { password, ...fields } = changes;
    const update: Partial<Pick<User, 'name' | 'role' | 'isActive' | 'passwordHash'>> =
      Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    if (password !== undefined) update.passwordHash = await this.hasher.hash(password);
    if (Object.keys(update).length > 0) await this.users.update(id, update);
    await this.forgetCached(id);

    // Access tokens carry the role: a demoted admin must not keep admin tokens for their lifetime.
    const reason = deactivated
      ? 'deactivated'
      : demoted
        ? 'demoted'
        : password !== undefined
          ? 'password-changed'
          : undefined;
    if (reason) await this.events.emitAsync(USER_ACCESS_REVOKED, new UserAccessRevoked(id, reason));
    return this.get(id);
  }

  @Transactional()
  async delete(id: string): Promise<void> {
    const user = await this.users.findById(id);
    if (!user) throw new ProblemException('NOT_FOUND', 'No user with this id.');
    await this.keepAnAdminBesides(user);
    // Announced before the row goes (listeners still see the user's sessions), in the same transaction.
    await this.events.emitAsync(USER_ACCESS_REVOKED, new UserAccessRevoked(id, 'deleted'));
    await this.users.delete(id);
    await this.forgetCached(id);
  }

  /** 409 LAST_ADMIN when `user` is the only active admin; locks the admins until commit. */
  private async keepAnAdminBesides(user: User): Promise<void> {
    if (user.role !== ROLES.admin || !user.isActive) return;
    const admins = await this.users.lockActiveAdmins();
    if (admins.every((adminId) => adminId === user.id)) {
      throw new ProblemException(
        'LAST_ADMIN',
        'This is the last active admin: promote another user to admin first.',
      );
    }
  }

  /**
   * Drops the user's cached responses now and again after commit: a read that raced the
   * transaction cannot leave the old row cached for its TTL.
   */
  private async forgetCached(id: string): Promise<void> {
    const tags = [userCacheTag(id)];
    await this.cache.invalidateTags(tags);
    await afterCommit(() => this.cache.invalidateTags(tags));
  }

  /** Creates the admin from ADMIN_EMAIL / ADMIN_PASSWORD unless that email exists. Idempotent. */
  async ensureAdmin(email: string, password: string): Promise<boolean> {
    const normalised = normaliseEmail(email);
    if (await this.users.findByEmail(normalised)) return false;
    const created = await this.users.insertIfAbsent({
      email: normalised,
      name: 'Administrator',
      role: ROLES.admin,
      passwordHash: await this.hasher.hash(password),
      // The operator chose this address: there is nobody to send a verification link to.
      emailVerifiedAt: new Date(),
    });
    if (created) this.logger.log(`Created admin user ${normalised}`);
    return created;
  }

  private async createUser(input: CreateUserDto): Promise<UserDto> {
    const user = await this.users.insert({
      email: normaliseEmail(input.email),
      name: input.name,
      role: input.role ?? 'user',
      passwordHash: await this.hasher.hash(input.password),
    });
    const dto = UserDto.from(user);
    await afterCommit(() =>
      this.events.emitAsync(USER_REGISTERED, new UserRegistered(dto.id, dto.email, dto.name)),
    );
    return dto;
  }
}

import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
import { ProblemException } from '@girder/errors';
import type { KeysetPosition } from '@girder/http';
import { ROLES, type UserRole } from '@girder/permissions';
import type { Readable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { User } from './user.entity';

export interface UserFilter {
  email?: string;
  role?: UserRole;
}

export type NewUser = Pick<User, 'email' | 'name' | 'role' | 'passwordHash'> &
  Partial<Pick<User, 'emailVerifiedAt'>>;

/** Signups of one UTC day. */
export interface DailyCount {
  date: string;
  count: number;
}

@Injectable()
export class UsersRepository extends TransactionalRepository<User> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, User);
  }

  /** Inserts a user; a taken email (also when two inserts race) is 409 EMAIL_TAKEN. */
  async insert(user: NewUser): Promise<User> {
    try {
      const result = await this.repository.insert(user);
      return this.findById(result.identifiers[0].id as string) as Promise<User>;
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { constraint?: string }).constraint === 'uq_users_email'
      ) {
        throw new ProblemException('EMAIL_TAKEN', 'This email is already registered.');
      }
      throw error;
    }
  }

  /** Inserts unless the email exists; returns whether a row was created. */
  async insertIfAbsent(user: NewUser): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .insert()
      .values(user)
      .orIgnore()
      .returning('id')
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  findById(id: string): Promise<User | null> {
    return this.repository.findOneBy({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.repository.findOneBy({ email });
  }

  /** The only read that loads the hash: for credential checks inside the users library. */
  findWithHashById(id: string): Promise<User | null> {
    return this.repository
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.id = :id', { id })
      .getOne();
  }

  findWithHashByEmail(email: string): Promise<User | null> {
    return this.repository
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.email = :email', { email })
      .getOne();
  }

  /** Newest first, ties by id; `limit + 1` rows so the caller knows whether more exist. */
  page(filter: UserFilter, limit: number, after?: KeysetPosition): Promise<User[]> {
    const query = this.repository.createQueryBuilder('user');
    if (filter.email !== undefined) query.andWhere('user.email = :email', { email: filter.email });
    if (filter.role !== undefined) query.andWhere('user.role = :role', { role: filter.role });
    if (after) query.andWhere('(user.createdAt, user.id) < (:createdAt, :id)', after);
    return query
      .orderBy('user.createdAt', 'DESC')
      .addOrderBy('user.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  /** Multi-row insert; rows whose email exists are skipped. Returns the emails inserted. */
  async insertManyIgnoringTaken(rows: NewUser[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const result = await this.repository
      .createQueryBuilder()
      .insert()
      .values(rows)
      .orIgnore()
      .returning('email')
      .execute();
    return (result.raw as Array<{ email: string }>).map((row) => row.email);
  }

  /** A server-side cursor over every user (no hashes), on its own pooled connection; call release() when done. */
  async streamAll(): Promise<{ stream: Readable; release: () => Promise<void> }> {
    const runner = this.manager.connection.createQueryRunner('slave');
    await runner.connect();
    const stream = await this.repository
      .createQueryBuilder('user')
      .select([
        'user.id',
        'user.email',
        'user.name',
        'user.role',
        'user.isActive',
        'user.createdAt',
      ])
      .orderBy('user.createdAt', 'ASC')
      .addOrderBy('user.id', 'ASC')
      .setQueryRunner(runner)
      .stream();
    return { stream, release: () => runner.release() };
  }

  /** Signups per UTC day in [from, to], days without signups included as 0. */
  async countCreatedPerDay(from: string, to: string): Promise<DailyCount[]> {
    return this.manager.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS date, count(u.id)::int AS count
         FROM generate_series($1::date, $2::date, interval '1 day') AS day
         LEFT JOIN users u ON u.created_at >= day AND u.created_at < day + interval '1 day'
        GROUP BY day ORDER BY day`,
      [from, to],
    );
  }

  async update(
    id: string,
    changes: Partial<Pick<User, 'name' | 'role' | 'isActive' | 'passwordHash' | 'emailVerifiedAt'>>,
  ): Promise<void> {
    await this.repository.update({ id }, changes);
  }

  /**
   * Ids of the active admins, their rows locked until the transaction ends: two concurrent
   * demotions (or deletions) of the last two admins run one after the other, and the second
   * sees one admin left.
   */
  async lockActiveAdmins(): Promise<string[]> {
    const rows = await this.repository
      .createQueryBuilder('user')
      .select('user.id')
      .where('user.role = :role AND user.isActive', { role: ROLES.admin })
      .orderBy('user.id')
      .setLock('pessimistic_write')
      .getMany();
    return rows.map((row) => row.id);
  }

  /** Marks the address verified, unless the user's email is no longer `email`; false then. */
  async markEmailVerified(id: string, email: string): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .update()
      .set({ emailVerifiedAt: () => 'COALESCE(email_verified_at, now())' })
      .where('id = :id AND email = :email', { id, email })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repository.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}

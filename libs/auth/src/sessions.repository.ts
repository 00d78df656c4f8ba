import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
import { IsNull } from 'typeorm';
import { Session } from './session.entity';

export type NewSession = Pick<
  Session,
  'userId' | 'family' | 'tokenHash' | 'expiresAt' | 'ip' | 'userAgent'
>;

@Injectable()
export class SessionsRepository extends TransactionalRepository<Session> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Session);
  }

  async insert(session: NewSession): Promise<void> {
    await this.repository.insert(session);
  }

  /** Locks the row so two refreshes with one token cannot both succeed. */
  findByHashForUpdate(tokenHash: string): Promise<Session | null> {
    return this.repository
      .createQueryBuilder('session')
      .setLock('pessimistic_write')
      .where('session.tokenHash = :tokenHash', { tokenHash })
      .getOne();
  }

  async markUsed(id: string): Promise<void> {
    await this.repository.update({ id }, { usedAt: () => 'now()' });
  }

  /** Revokes every live token of a family. */
  async revokeFamily(family: string): Promise<void> {
    await this.repository.update({ family, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }

  /** Revokes every live token of a user (but those of `keepFamily`) and returns the families that had any. */
  async revokeAllOfUser(userId: string, keepFamily?: string): Promise<string[]> {
    const update = this.repository
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (keepFamily) update.andWhere('family <> :keepFamily', { keepFamily });
    const result = await update.returning('family').execute();
    const rows = result.raw as Array<{ family: string }>;
    return [...new Set(rows.map((row) => row.family))];
  }
}

import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
import { IsNull } from 'typeorm';
import { Session } from './session.entity';

export interface LiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
}

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

  /**
   * The user's live sessions (families with an unused, unrevoked, unexpired token), most
   * recently used first. A family's first token marks its start, its newest token its last use
   * (refresh) and the client it came from.
   */
  async listLive(userId: string, limit: number): Promise<LiveSession[]> {
    const rows: Array<{
      id: string;
      created_at: Date;
      last_used_at: Date;
      user_agent: string | null;
      ip: string | null;
    }> = await this.repository.query(
      `SELECT family AS id,
              min(created_at) AS created_at,
              max(created_at) AS last_used_at,
              (array_agg(user_agent ORDER BY created_at DESC))[1] AS user_agent,
              (array_agg(ip ORDER BY created_at DESC))[1] AS ip
         FROM sessions
        WHERE user_id = $1
        GROUP BY family
       HAVING bool_or(revoked_at IS NULL AND used_at IS NULL AND expires_at > now())
        ORDER BY last_used_at DESC, family DESC
        LIMIT $2`,
      [userId, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      userAgent: row.user_agent,
      ip: row.ip,
    }));
  }

  /** Revokes a live session (family) of this user; false when the user has no such live session. */
  async revokeFamilyOf(userId: string, family: string): Promise<boolean> {
    // node-postgres through TypeORM answers an UPDATE with [rows, affected count].
    const [, affected] = await this.repository.query<[unknown[], number]>(
      `UPDATE sessions SET revoked_at = now()
        WHERE user_id = $1 AND family = $2 AND revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM sessions live
                       WHERE live.user_id = $1 AND live.family = $2 AND live.revoked_at IS NULL
                         AND live.used_at IS NULL AND live.expires_at > now())
        RETURNING id`,
      [userId, family],
    );
    return affected > 0;
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

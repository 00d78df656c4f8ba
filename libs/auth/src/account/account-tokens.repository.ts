import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Clock } from '@girder/config';
import { TransactionalRepository } from '@girder/database';
import { IsNull, MoreThan } from 'typeorm';
import { hashOpaqueToken, newOpaqueToken } from '../opaque-token';
import { AccountToken, type AccountTokenPurpose } from './account-token.entity';

/** What a consumed token proves: the owner of `email` (then) is user `userId`. */
export interface ConsumedToken {
  userId: string;
  email: string;
}

@Injectable()
export class AccountTokensRepository extends TransactionalRepository<AccountToken> {
  constructor(
    txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly clock: Clock,
  ) {
    super(txHost, AccountToken);
  }

  /** Stores a new token's hash and returns the token, for the mail only. */
  async issue(
    userId: string,
    email: string,
    purpose: AccountTokenPurpose,
    ttlMs: number,
  ): Promise<string> {
    const token = newOpaqueToken();
    await this.repository.insert({
      userId,
      email,
      purpose,
      tokenHash: hashOpaqueToken(token),
      expiresAt: new Date(this.clock.now().getTime() + ttlMs),
    });
    return token;
  }

  /**
   * Uses up a token of `purpose`; null when it is unknown, of another purpose, used or expired.
   * The row is locked, so two concurrent uses of one token cannot both succeed. Call inside a
   * transaction: if the work the token pays for fails, the token stays unused.
   */
  async consume(token: string, purpose: AccountTokenPurpose): Promise<ConsumedToken | null> {
    const row = await this.repository
      .createQueryBuilder('token')
      .setLock('pessimistic_write')
      .where('token.tokenHash = :hash', { hash: hashOpaqueToken(token) })
      .getOne();
    if (!row || row.purpose !== purpose || row.usedAt !== null) return null;
    if (row.expiresAt.getTime() <= this.clock.now().getTime()) return null;
    await this.repository.update({ id: row.id }, { usedAt: this.clock.now() });
    return { userId: row.userId, email: row.email };
  }

  /** How many tokens of `purpose` the user was sent in the last `windowMs`. */
  countIssuedWithin(
    userId: string,
    purpose: AccountTokenPurpose,
    windowMs: number,
  ): Promise<number> {
    const since = new Date(this.clock.now().getTime() - windowMs);
    return this.repository.countBy({ userId, purpose, createdAt: MoreThan(since) });
  }

  /** Voids every unused token of `purpose` the user still has. */
  async voidOutstanding(userId: string, purpose: AccountTokenPurpose): Promise<void> {
    await this.repository.update(
      { userId, purpose, usedAt: IsNull() },
      { usedAt: this.clock.now() },
    );
  }
}

import { BaseEntity } from '@girder/database';
import { Check, Column, Entity, Index } from 'typeorm';

export const ACCOUNT_TOKEN_PURPOSES = ['verify-email', 'reset-password'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * A token sent by mail (an email-verification or password-reset link): stored only as a hash,
 * single use, bound to its purpose and to the address it was sent to.
 */
@Entity('account_tokens')
@Index('ix_account_tokens_user_purpose', ['userId', 'purpose'])
@Check(
  'ck_account_tokens_purpose',
  `"purpose" IN (${ACCOUNT_TOKEN_PURPOSES.map((purpose) => `'${purpose}'`).join(', ')})`,
)
export class AccountToken extends BaseEntity {
  @Column({ type: 'uuid' })
  userId!: string;

  @Column({ type: 'varchar', length: 32 })
  purpose!: AccountTokenPurpose;

  /** The address the mail went to: once the user's email differs, the token is void. */
  @Column({ type: 'text' })
  email!: string;

  /** SHA-256 of the token; the token itself is never stored. */
  @Column({ type: 'text', unique: true })
  tokenHash!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  usedAt!: Date | null;
}

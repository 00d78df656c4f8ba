import { BaseEntity } from '@girder/database';
import { Column, Entity, Index } from 'typeorm';

/**
 * One refresh token. Tokens of one login share a `family`: rotation adds a row to the family,
 * and the family id is the `sid` claim of every access token issued from it.
 */
@Entity('sessions')
@Index('ix_sessions_user_id', ['userId'])
@Index('ix_sessions_family', ['family'])
export class Session extends BaseEntity {
  @Column({ type: 'uuid' })
  userId!: string;

  @Column({ type: 'uuid' })
  family!: string;

  /** SHA-256 of the refresh token; the token itself is never stored. */
  @Column({ type: 'text', unique: true })
  tokenHash!: string;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  /** Set when the token was exchanged; presenting it again is a theft signal. */
  @Column({ type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;
}

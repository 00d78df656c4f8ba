import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A revoked session (family): its access tokens are refused until they expire. Kept apart
 * from `sessions` (no foreign key) so a deleted user's revocations outlive their rows.
 */
@Entity('session_revocations')
@Index('ix_session_revocations_revoked_at', ['revokedAt'])
export class SessionRevocation {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_session_revocations' })
  family!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  revokedAt!: Date;
}

import { BaseEntity } from '@girder/database';
import { ROLES, USER_ROLES, type UserRole } from '@girder/permissions';
import { Check, Column, Entity, Index } from 'typeorm';

@Entity('users')
@Index('ix_users_created_at_id', ['createdAt', 'id'])
@Check('ck_users_role', `"role" IN (${USER_ROLES.map((role) => `'${role}'`).join(', ')})`)
@Check('ck_users_email_normalised', `"email" = lower(btrim("email"))`)
export class User extends BaseEntity {
  /** Stored normalised (trimmed, lower-case); unique. */
  @Column({ type: 'text', unique: true })
  email!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16, default: ROLES.user })
  role!: UserRole;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  /** When the owner proved they read mail at `email` (a verification link, a password reset). */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  emailVerifiedAt!: Date | null;

  /** Never selected unless asked for explicitly, and never leaves the users library. */
  @Column({ type: 'text', select: false })
  passwordHash!: string;
}

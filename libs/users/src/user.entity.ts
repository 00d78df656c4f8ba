import { BaseEntity } from '@girder/database';
import type { UserRole } from '@girder/permissions';
import { Check, Column, Entity, Index } from 'typeorm';

export const USER_ROLES: readonly UserRole[] = ['user', 'admin'];

@Entity('users')
@Index('ix_users_created_at_id', ['createdAt', 'id'])
@Check('ck_users_role', `"role" IN ('user', 'admin')`)
@Check('ck_users_email_normalised', `"email" = lower(btrim("email"))`)
export class User extends BaseEntity {
  /** Stored normalised (trimmed, lower-case); unique. */
  @Column({ type: 'text', unique: true })
  email!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role!: UserRole;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  /** Never selected unless asked for explicitly, and never leaves the users library. */
  @Column({ type: 'text', select: false })
  passwordHash!: string;
}

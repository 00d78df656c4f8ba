import type { UserRole } from '@girder/permissions';
import { EmailField, NameField, PasswordField, RoleField } from './user-fields';

/** Body of `POST /users` (admins) and, without `role`, of registration. */
export class CreateUserDto {
  @EmailField()
  email!: string;

  @PasswordField()
  password!: string;

  @NameField()
  name!: string;

  @RoleField({ required: false })
  role?: UserRole;
}

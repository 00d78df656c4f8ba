import { ApiPropertyOptional } from '@nestjs/swagger';
import { OptionalNotNull } from '@girder/http';
import type { UserRole } from '@girder/permissions';
import { IsBoolean } from 'class-validator';
import { NameField, PasswordField, RoleField } from './user-fields';

/** Body of `PATCH /users/:id` (admins). */
export class UpdateUserDto {
  @NameField({ required: false })
  name?: string;

  @RoleField({ required: false })
  role?: UserRole;

  @ApiPropertyOptional({ description: 'false locks the user out at once (sessions revoked)' })
  @OptionalNotNull()
  @IsBoolean()
  isActive?: boolean;

  @PasswordField({ required: false })
  @ApiPropertyOptional({
    format: 'password',
    description: 'Sets a new password; every session of the user is revoked at once',
  })
  password?: string;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import type { UserRole } from '@girder/permissions';
import { IsBoolean, IsOptional } from 'class-validator';
import { NameField, RoleField } from './user-fields';

/** Body of `PATCH /users/:id` (admins). */
export class UpdateUserDto {
  @NameField({ required: false })
  @IsOptional()
  name?: string;

  @RoleField({ required: false })
  @IsOptional()
  role?: UserRole;

  @ApiPropertyOptional({ description: 'false locks the user out at once (sessions revoked)' })
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;
}

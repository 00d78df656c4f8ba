import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';
import { NameField, PasswordField } from './user-fields';

/** Body of `PATCH /users/me`: role and isActive are not accepted here (unknown → 400). */
export class UpdateMeDto {
  @NameField({ required: false })
  name?: string;

  @PasswordField({ required: false })
  password?: string;

  @ApiPropertyOptional({ format: 'password', description: 'Required when changing the password' })
  @ValidateIf((dto: UpdateMeDto) => dto.password !== undefined || dto.currentPassword !== undefined)
  @IsString({ message: 'currentPassword is required to change the password' })
  @IsNotEmpty({ message: 'currentPassword is required to change the password' })
  @MaxLength(128)
  currentPassword?: string;
}

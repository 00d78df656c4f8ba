import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { OptionalNotNull } from '@girder/http';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsString, Length, MaxLength } from 'class-validator';
import { normaliseEmail } from '../email';
import { USER_ROLES } from '@girder/permissions';

/**
 * Field rules shared by every DTO that accepts them, so registration and admin creation agree.
 * `required: false` fields may be left out, but `null` is refused like any other bad value.
 */
const optionality = (required: boolean | undefined): PropertyDecorator[] =>
  required === false ? [OptionalNotNull()] : [];

export const EmailField = () =>
  applyDecorators(
    ApiProperty({ example: 'ada@example.com', format: 'email', maxLength: 254 }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? normaliseEmail(value) : value,
    ),
    IsEmail({}, { message: 'email must be an email' }),
    MaxLength(254),
  );

export const PasswordField = (options: { required?: boolean } = {}) =>
  applyDecorators(
    ApiProperty({
      minLength: 8,
      maxLength: 128,
      format: 'password',
      example: 'correct-horse-battery',
      required: options.required ?? true,
    }),
    ...optionality(options.required),
    IsString(),
    Length(8, 128, { message: 'password must be 8 to 128 characters' }),
  );

export const NameField = (options: { required?: boolean } = {}) =>
  applyDecorators(
    ApiProperty({
      minLength: 1,
      maxLength: 100,
      example: 'Ada Lovelace',
      required: options.required ?? true,
    }),
    ...optionality(options.required),
    IsString(),
    Length(1, 100, { message: 'name must be 1 to 100 characters' }),
  );

export const RoleField = (options: { required?: boolean } = {}) =>
  applyDecorators(
    ApiProperty({ enum: USER_ROLES, required: options.required ?? true }),
    ...optionality(options.required),
    IsIn(USER_ROLES, { message: 'role must be user or admin' }),
  );

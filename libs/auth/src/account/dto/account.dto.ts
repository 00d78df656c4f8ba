import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { CreateUserDto, PasswordField } from '@girder/users';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';

/** The token from an account mail's link. */
export class AccountTokenField {
  @ApiProperty({
    description: 'The token from the link in the mail (single use)',
    example: 'Jb3kZ8m1Jq2QpWc0c5dFz2rYH0aK9x1U4vS6tL8nE7o',
    minLength: 1,
    maxLength: 200,
  })
  @IsString()
  @Length(1, 200)
  token!: string;
}

export class VerifyEmailDto extends AccountTokenField {}

export class ForgotPasswordDto extends PickType(CreateUserDto, ['email'] as const) {}

export class ResetPasswordDto extends AccountTokenField {
  @PasswordField()
  password!: string;
}

export class LogoutAllDto {
  @ApiPropertyOptional({
    description: 'Keep the session making this call (default false: end every session)',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  keepCurrent?: boolean;
}

/** The answer of the routes that queue a mail: the same whatever happens next. */
export class MailAcceptedDto {
  @ApiProperty({
    example: 'If the address belongs to an account, a mail is on its way.',
  })
  message!: string;
}

export class SessionInfoDto {
  @ApiProperty({ format: 'uuid', description: 'The session id (the `sid` of its access tokens)' })
  id!: string;

  @ApiProperty({ format: 'date-time', description: 'When the session started (sign-in)' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'When its tokens were last refreshed' })
  lastUsedAt!: string;

  @ApiProperty({ type: String, nullable: true, description: 'User-Agent of the last refresh' })
  userAgent!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Client IP of the last refresh' })
  ip!: string | null;

  @ApiProperty({ description: 'Whether this is the session making the call' })
  current!: boolean;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionInfoDto] })
  items!: SessionInfoDto[];
}

import { ApiProperty, PickType } from '@nestjs/swagger';
import { CreateUserDto, UserDto } from '@girder/users';
import { IsString, MaxLength } from 'class-validator';

/** The admin's create-user body without `role`: sending one is a 400, not a promotion. */
export class RegisterDto extends PickType(CreateUserDto, ['email', 'password', 'name'] as const) {}

/** Deliberately loose: any malformed credential is the same 401 as a wrong one. */
export class LoginDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ format: 'password', example: 'correct-horse-battery', maxLength: 128 })
  @IsString()
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({
    description: 'The refreshToken of the last Session; each works once',
    example: 'Jb3kZ8m1Jq2QpWc0c5dFz2rYH0aK9x1U4vS6tL8nE7o',
    maxLength: 200,
  })
  @IsString()
  @MaxLength(200)
  refreshToken!: string;
}

export class SessionDto {
  @ApiProperty({ description: 'JWT for Authorization: Bearer …' })
  accessToken!: string;

  @ApiProperty({ description: 'Opaque, single use: exchange it at POST /auth/refresh' })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'Seconds until the access token expires',
    example: 900,
  })
  expiresIn!: number;

  @ApiProperty({ type: UserDto })
  user!: UserDto;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageQuery } from '@girder/http';
import type { UserRole } from '@girder/permissions';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { normaliseEmail } from '../email';
import { USER_ROLES } from '@girder/permissions';

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Exact match (normalised like stored emails)' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normaliseEmail(value) : value,
  )
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;
}

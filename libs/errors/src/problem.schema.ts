import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROBLEM_CODES, type ProblemCode } from './problem-code';
import type { FieldError, ProblemDetails } from './problem-details';

/** One failing field of a validation problem. */
export class ProblemFieldError implements FieldError {
  @ApiProperty({ description: 'The field, dotted for nested ones', example: 'email' })
  field!: string;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;
}

/**
 * The OpenAPI schema of every 4xx and 5xx body (RFC 9457 Problem Details with Girder's
 * `code`, `requestId` and `errors`), served as `application/problem+json`.
 */
export class Problem implements ProblemDetails {
  @ApiProperty({
    description: 'A relative URI naming the problem type',
    example: '/problems/validation-failed',
  })
  type!: string;

  @ApiProperty({ example: 'Validation failed' })
  title!: string;

  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 })
  status!: number;

  @ApiProperty({ example: 'email must be an email' })
  detail!: string;

  @ApiProperty({ description: 'The request path', example: '/api/v1/auth/register' })
  instance!: string;

  @ApiProperty({
    enum: Object.keys(PROBLEM_CODES),
    enumName: 'ProblemCode',
    description: 'Stable and machine-readable: branch on this, not on `title` or `detail`',
    example: 'VALIDATION_FAILED',
  })
  code!: ProblemCode;

  @ApiProperty({
    description: 'The X-Request-ID of the request, for support and logs',
    example: '0b7c6f2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e',
  })
  requestId!: string;

  @ApiPropertyOptional({
    type: [ProblemFieldError],
    description: 'Only on VALIDATION_FAILED: every failing field',
  })
  errors?: ProblemFieldError[];
}

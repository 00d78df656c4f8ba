import { HttpException } from '@nestjs/common';
import { PROBLEM_CODES, type ProblemCode } from './problem-code';
import type { FieldError } from './problem-details';

/**
 * Throw this from any layer to answer with a specific problem code, e.g.
 * `throw new ProblemException('EMAIL_TAKEN', 'This email is already registered')`.
 * The status comes from the code, so the two can never disagree.
 */
export class ProblemException extends HttpException {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, PROBLEM_CODES[code].status);
  }
}

export class ValidationFailedException extends ProblemException {
  constructor(errors: FieldError[]) {
    super('VALIDATION_FAILED', errors.map((error) => error.message).join('; '), errors);
  }
}

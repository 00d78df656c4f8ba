export { isDatabaseUnreachable, isRetryableTransactionError } from './database-error';
export { ErrorReporter, LogErrorReporter, type ErrorReport } from './error-reporter';
export { ErrorsModule, type ErrorsModuleOptions } from './errors.module';
export { PROBLEM_CODES, codeForStatus, problemType, type ProblemCode } from './problem-code';
export { PROBLEM_CONTENT_TYPE, type FieldError, type ProblemDetails } from './problem-details';
export { Problem, ProblemFieldError } from './problem.schema';
export { ProblemDetailsFilter } from './problem-details.filter';
export { ProblemException, ValidationFailedException } from './problem.exception';
export { createValidationPipe, flattenValidationErrors } from './validation.pipe';

import type { ProblemCode } from './problem-code';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 Problem Details with Girder's extension members (`code`, `requestId`, `errors`). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ProblemCode;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

import type { ProblemCode } from './problem-code';

/** PostgreSQL SQLSTATE codes that are the client's fault, not the server's. */
const CLIENT_SQLSTATES: Record<string, { code: ProblemCode; detail: string }> = {
  '23505': { code: 'CONFLICT', detail: 'A resource with these values already exists.' },
  '23503': {
    code: 'CONFLICT',
    detail: 'The request refers to a resource that does not exist or is still in use.',
  },
  '22P02': { code: 'BAD_REQUEST', detail: 'A value in the request has the wrong format.' },
};

/**
 * Maps a driver error (TypeORM's QueryFailedError carries pg's `code`) to a client problem.
 * The detail is generic on purpose: constraint names and SQL never reach a response.
 */
export function problemForDatabaseError(
  error: unknown,
): { code: ProblemCode; detail: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const driverError = (error as { driverError?: { code?: unknown } }).driverError;
  const sqlState = driverError?.code ?? (error as { code?: unknown }).code;
  return typeof sqlState === 'string' ? CLIENT_SQLSTATES[sqlState] : undefined;
}

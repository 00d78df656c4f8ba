import type { ProblemCode } from './problem-code';

export interface DatabaseProblem {
  code: ProblemCode;
  detail: string;
}

/** PostgreSQL SQLSTATE codes that are the client's fault, not the server's. */
const CLIENT_SQLSTATES: Record<string, DatabaseProblem> = {
  '23505': { code: 'CONFLICT', detail: 'A resource with these values already exists.' },
  '23503': {
    code: 'CONFLICT',
    detail: 'The request refers to a resource that does not exist or is still in use.',
  },
  '23502': { code: 'BAD_REQUEST', detail: 'A required value in the request is missing.' },
  '23514': { code: 'BAD_REQUEST', detail: 'A value in the request is not allowed.' },
};

const UNAVAILABLE: DatabaseProblem = {
  code: 'SERVICE_UNAVAILABLE',
  detail: 'The database is unavailable; retry shortly.',
};

/**
 * SQLSTATEs that say the server cannot serve now: connection exceptions (08), too many
 * connections or other resource exhaustion (53), an administrator shutdown or crash (57P0x),
 * and serialization failures and deadlocks (40001, 40P01) that survived their retry.
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]$|40001$|40P01$)/;

/** Socket errors of a database that is down, restarting or unreachable. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What node-postgres and TypeORM say (without a code) when the connection is gone or never came. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established/i;

/** The error and the errors it wraps (TypeORM's driverError, `cause`, an AggregateError's list). */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (typeof error !== 'object' || error === null || depth > 4) return;
  const record = error as Record<string, unknown>;
  yield record;
  yield* chain(record.driverError, depth + 1);
  yield* chain(record.cause, depth + 1);
  if (Array.isArray(record.errors))
    for (const inner of record.errors) yield* chain(inner, depth + 1);
}

/** Serialization failures and deadlocks: the transaction is worth one more try. */
export function isRetryableTransactionError(error: unknown): boolean {
  for (const link of chain(error)) if (link.code === '40001' || link.code === '40P01') return true;
  return false;
}

/**
 * The database could not be reached or cannot serve at all now (connection refused or lost,
 * shutting down, out of connections), as opposed to a query that failed: retrying the same
 * work later can succeed. Serialization failures and deadlocks are not counted here.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return problemForDatabaseError(error) === UNAVAILABLE && !isRetryableTransactionError(error);
}

/**
 * Maps a database error to a problem, in one place for every route:
 * - integrity violations of the client's data → 409 / 400;
 * - data exceptions (SQLSTATE class 22: bad encoding such as a NUL byte, a date or number out
 *   of range, an invalid text representation) → 400;
 * - the database being unreachable, shutting down or out of connections → 503.
 * The detail is generic on purpose: constraint names and SQL never reach a response.
 */
export function problemForDatabaseError(error: unknown): DatabaseProblem | undefined {
  for (const link of chain(error)) {
    const code = link.code;
    if (typeof code === 'string') {
      if (CLIENT_SQLSTATES[code]) return CLIENT_SQLSTATES[code];
      if (code.startsWith('22'))
        return {
          code: 'BAD_REQUEST',
          detail: 'A value in the request has the wrong format or range.',
        };
      if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)) return UNAVAILABLE;
    }
    if (typeof link.message === 'string' && UNAVAILABLE_MESSAGE.test(link.message))
      return UNAVAILABLE;
  }
  return undefined;
}

import { isDatabaseUnreachable } from '@girder/errors';
import {
  ConnectionClosedError,
  PostgresConnection,
  PostgresQueueBackend,
  type PgQueryable,
  type PostgresConnectionOptions,
} from 'bullmq';
import type { EventEmitter } from 'node:events';

type Query = PgQueryable['query'];

/** A lost or refused database as BullMQ's Redis clients report theirs. */
function asConnectionError(error: unknown): unknown {
  if (!isDatabaseUnreachable(error)) return error;
  return Object.assign(
    new ConnectionClosedError(`PostgreSQL unreachable: ${(error as Error).message}`),
    { cause: error },
  );
}

/**
 * BullMQ's PostgreSQL connection, mended for a database that goes away (BullMQ 6.7):
 * - its queries report a lost or refused database as ConnectionClosedError, the error BullMQ
 *   knows from Redis. BullMQ tells a connection error (wait `runRetryDelay`, then fetch again)
 *   from any other (report it and fetch again at once); node-postgres's "Connection terminated"
 *   or ECONNRESET are not among the errors it knows, so a worker would fetch in a loop that
 *   never yields while PostgreSQL is away;
 * - a connection lost while BullMQ holds a client of the pool does not crash the process;
 * - a start (connect, schema check) that failed is tried again by the next query, rather than
 *   kept and handed to every later query for good;
 * Found by test/faults/postgres-cut in PostgreSQL-only mode; each mend names the private field
 * of BullMQ it resets, to be checked when BullMQ is upgraded.
 */
export class PostgresConnectionWithOutages extends PostgresConnection {
  constructor(options: PostgresConnectionOptions) {
    super(options);
    // The pool listens for errors of idle clients only. BullMQ checks a client out to start
    // (its migrations), and node-postgres emits `error` on a client whose connection ends: with
    // no listener that would crash the process. The query in flight fails all the same.
    (this.pool as unknown as EventEmitter).on('connect', (client: EventEmitter) =>
      client.on('error', () => undefined),
    );
    const query = this.pool.query.bind(this.pool);
    this.pool.query = ((...args: Parameters<Query>) =>
      query(...args).catch((error: unknown) => {
        throw asConnectionError(error);
      })) as Query;
  }

  override waitUntilReady(): Promise<void> {
    return startAgainAfterFailure(this, () => super.waitUntilReady());
  }
}

/**
 * BullMQ's PostgreSQL queue backend with the same mend as its connection: a start that failed
 * (its connection's, or naming the LISTEN connection) is tried again by the next call.
 */
export class PostgresQueueBackendWithOutages extends PostgresQueueBackend {
  override waitUntilReady(): Promise<void> {
    return startAgainAfterFailure(this, () => super.waitUntilReady());
  }
}

/**
 * BullMQ memoizes a start, failed or not, in a private `readyPromise` and hands it to every
 * later caller: a start that failed while PostgreSQL was away would fail every query for good.
 * Forgets a failed one, so the next call starts again.
 */
async function startAgainAfterFailure(
  started: PostgresConnection | PostgresQueueBackend,
  start: () => Promise<void>,
): Promise<void> {
  try {
    await start();
  } catch (error) {
    (started as unknown as { readyPromise?: Promise<void> }).readyPromise = undefined;
    throw asConnectionError(error);
  }
}

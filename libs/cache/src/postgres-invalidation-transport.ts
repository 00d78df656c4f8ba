import { PostgresListener, type TypeOrmTransactionHost } from '@girder/database';
import { randomBytes } from 'node:crypto';
import { InvalidationTransport, type InvalidationEvents } from './cache-backend';

/** The PostgreSQL notification channel cache invalidations travel on (per database). */
export const CACHE_INVALIDATION_CHANNEL = 'girder_cache_invalidation';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;

/**
 * Invalidations over PostgreSQL LISTEN/NOTIFY (PostgreSQL-only mode).
 *
 * - **Publish** is `pg_notify` through the transaction host: inside the writer's transaction
 *   when there is one, so PostgreSQL delivers it when (and only if) the write commits, with no
 *   window in which the row changed and the message is not on its way; right away otherwise.
 * - **Listen** on a dedicated connection (`PostgresListener`, reconnecting by itself).
 * - **Ping** is a NOTIFY on a channel only this process listens to, sent on the listening
 *   connection: PostgreSQL delivers notifications in the order their transactions committed,
 *   so its arrival proves every invalidation committed before it was sent has been delivered.
 */
export class PostgresInvalidationTransport extends InvalidationTransport {
  readonly maxMessageBytes = MAX_PAYLOAD_BYTES;
  private readonly pingChannel = `girder_cache_ping_${randomBytes(8).toString('hex')}`;
  private listener?: PostgresListener;
  private pingSeq = 0;
  private readonly pending = new Map<string, { resolve(): void; reject(error: unknown): void }>();

  constructor(
    private readonly databaseUrl: string,
    private readonly txHost: TypeOrmTransactionHost,
  ) {
    super();
  }

  open(events: InvalidationEvents): void {
    this.listener = new PostgresListener(
      {
        url: this.databaseUrl,
        applicationName: 'girder-cache-invalidations',
        channels: [CACHE_INVALIDATION_CHANNEL, this.pingChannel],
      },
      {
        notification: (channel, payload) => {
          if (channel === CACHE_INVALIDATION_CHANNEL) events.message(payload);
          else this.pending.get(payload)?.resolve();
        },
        listening: () => events.listening(),
        lost: (error) => {
          this.rejectPending(error);
          events.lost(error);
        },
      },
    );
    this.listener.start();
  }

  async publish(text: string): Promise<void> {
    await this.txHost.tx.query('SELECT pg_notify($1, $2)', [CACHE_INVALIDATION_CHANNEL, text]);
  }

  async ping(): Promise<void> {
    const listener = this.listener;
    if (!listener?.listening) throw new Error('not listening');
    const id = String((this.pingSeq += 1));
    const arrived = new Promise<void>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    arrived.catch(() => undefined); // awaited below; rejected early when the connection drops
    try {
      await listener.query('SELECT pg_notify($1, $2)', [this.pingChannel, id]);
      await arrived;
    } finally {
      this.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    this.rejectPending(new Error('closed'));
    await this.listener?.stop();
  }

  private rejectPending(error: unknown): void {
    for (const waiter of this.pending.values())
      waiter.reject(error ?? new Error('connection lost'));
    this.pending.clear();
  }
}

import { Client, type Notification } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PostgresListenerOptions {
  /** The PostgreSQL to LISTEN on (the primary: NOTIFY is not replicated). */
  url: string;
  /** Shows up in `pg_stat_activity`. */
  applicationName: string;
  /** Channels to LISTEN on: plain identifiers (letters, digits, `_`). */
  channels: readonly string[];
}

export interface PostgresListenerEvents {
  notification(channel: string, payload: string): void;
  /** LISTEN is in place on a (new) connection: from now on no notification is missed. */
  listening(): void;
  /** The connection failed or closed: notifications sent meanwhile are lost. */
  lost(error: unknown): void;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to others and stop
 * listening), reconnecting with backoff (100 ms doubling to 2 s) after any failure and saying
 * so (`lost`, then `listening` again), so the owner can reload or drop what it may have
 * missed. `query` runs a statement on that connection, e.g. a NOTIFY to itself whose arrival
 * proves every notification queued before it was delivered (notifications arrive in the order
 * of the commits that sent them).
 */
export class PostgresListener {
  private client?: Client;
  private stopped = false;
  private readonly stopping = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly options: PostgresListenerOptions,
    private readonly events: PostgresListenerEvents,
  ) {
    for (const channel of options.channels) {
      if (!CHANNEL.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
    }
  }

  /** Whether LISTEN is in place right now. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Runs a statement on the listening connection; rejects when there is none. */
  async query(sql: string, params: unknown[] = []): Promise<void> {
    if (!this.client) throw new Error('not listening');
    await this.client.query(sql, params);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.client?.end().catch(() => undefined);
    await this.running;
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      const client = new Client({
        connectionString: this.options.url,
        application_name: this.options.applicationName,
        keepAlive: true,
        connectionTimeoutMillis: 2_000,
      });
      let failure: unknown = new Error('connection closed');
      try {
        const closed = new Promise<void>((resolve) => {
          client.on('error', (error: Error) => {
            failure = error;
            resolve();
          });
          client.on('end', () => resolve());
        });
        client.on('notification', (message: Notification) =>
          this.events.notification(message.channel, message.payload ?? ''),
        );
        await client.connect();
        for (const channel of this.options.channels) await client.query(`LISTEN ${channel}`);
        if (this.stopped) break;
        this.client = client;
        attempt = 0;
        this.events.listening();
        await closed;
      } catch (error) {
        failure = error;
      } finally {
        const was = this.client === client;
        this.client = undefined;
        await client.end().catch(() => undefined);
        if (was && !this.stopped) this.events.lost(failure);
      }
      if (!this.stopped) {
        await sleep(Math.min(100 * 2 ** attempt, 2_000), undefined, {
          signal: this.stopping.signal,
        }).catch(() => undefined);
      }
    }
  }
}

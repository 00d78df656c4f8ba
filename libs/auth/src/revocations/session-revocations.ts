import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { AppConfig } from '@girder/config';
import { afterCommit } from '@girder/database';
import { OutageLog } from '@girder/logging';
import { Client, type Notification } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

/** The PostgreSQL notification channel a committed revocation is announced on. */
export const REVOCATION_CHANNEL = 'girder_session_revoked';
/** How often each process re-reads recent revocations, whatever notifications it got. */
const SYNC_INTERVAL_MS = 500;
/** Re-read revocations this far back on every sync: covers transactions that committed late. */
const SYNC_OVERLAP_MS = 60_000;
/** Notification payloads stay under PostgreSQL's 8000-byte limit. */
const FAMILIES_PER_NOTIFICATION = 200;
const DAY_MS = 86_400_000;

/**
 * Revoked sessions (families). PostgreSQL is the record: a revocation is written in the
 * transaction that causes it (logout, reuse detection, deactivation, deletion, demotion,
 * password change or reset, ending a session) and announced with NOTIFY, which PostgreSQL
 * delivers only once that transaction commits.
 *
 * Every API process keeps the revocations younger than an access token's lifetime in memory,
 * so the per-request check is a lookup with no network round trip. It stays current through
 * LISTEN (milliseconds), plus a re-read of recent revocations every 500 ms that also covers a
 * lost notification or a broken listening connection, plus a full load at boot and after
 * every reconnect. A revocation is therefore honoured by every process within about half a
 * second of its commit, and at once by the process that made it; Redis plays no part.
 */
@Injectable()
export class SessionRevocations implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionRevocations');
  private readonly outage = new OutageLog(this.logger, 'Revocation sync with PostgreSQL');
  /** family → when it was revoked (ms). */
  private readonly revoked = new Map<string, number>();
  private readonly keepMs: number;
  private readonly databaseUrl: string;
  private listener?: Client;
  private syncedUpTo = 0;
  private stopped = false;
  private syncTimer?: NodeJS.Timeout;
  private lastCleanup = 0;
  private readonly stopping = new AbortController();

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    config: AppConfig,
  ) {
    // An access token lives JWT_ACCESS_TTL; clocks drift a little.
    this.keepMs = (config.get('JWT_ACCESS_TTL') + 60) * 1000;
    this.databaseUrl = config.get('DATABASE_URL');
  }

  async onModuleInit(): Promise<void> {
    await this.load(this.keepMs);
    void this.listen();
    this.syncTimer = setInterval(() => void this.sync(), SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearInterval(this.syncTimer);
    await this.listener?.end().catch(() => undefined);
  }

  /**
   * Records the revocation in the current transaction (and announces it on commit); this
   * process honours it from the commit on, others within the sync bound.
   */
  async revoke(families: string[]): Promise<void> {
    if (families.length === 0) return;
    const manager = this.txHost.tx;
    await manager.query(
      `INSERT INTO session_revocations (family) SELECT unnest($1::uuid[])
       ON CONFLICT (family) DO UPDATE SET revoked_at = now()`,
      [families],
    );
    for (let start = 0; start < families.length; start += FAMILIES_PER_NOTIFICATION) {
      const chunk = families.slice(start, start + FAMILIES_PER_NOTIFICATION);
      await manager.query('SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, chunk.join(',')]);
    }
    await afterCommit(() => this.remember(families, Date.now()));
  }

  isRevoked(family: string): boolean {
    return this.revoked.has(family);
  }

  private remember(families: string[], revokedAt: number): void {
    for (const family of families) {
      this.revoked.set(family, Math.max(revokedAt, this.revoked.get(family) ?? 0));
    }
  }

  /** Reads the revocations of the last `windowMs` and forgets those too old to matter. */
  private async load(windowMs: number): Promise<void> {
    const rows: Array<{ family: string; revoked_at: Date; now: Date }> = await this.txHost.tx.query(
      `SELECT family, revoked_at, now() AS now FROM session_revocations
          WHERE revoked_at > now() - make_interval(secs => $1::double precision / 1000)`,
      [windowMs],
    );
    for (const row of rows) this.remember([row.family], row.revoked_at.getTime());
    const forgetBefore = Date.now() - this.keepMs;
    for (const [family, revokedAt] of this.revoked) {
      if (revokedAt < forgetBefore) this.revoked.delete(family);
    }
    this.syncedUpTo = Date.now();
  }

  private async sync(): Promise<void> {
    try {
      // After a gap (PostgreSQL unreachable a while), read back everything still relevant.
      const gap = Date.now() - this.syncedUpTo;
      await this.load(Math.min(this.keepMs, gap + SYNC_OVERLAP_MS));
      await this.cleanUp();
      this.outage.up();
    } catch (error) {
      this.outage.down(error);
    }
  }

  /** Rows past any token's lifetime are dead weight: drop them now and then (any process may). */
  private async cleanUp(): Promise<void> {
    if (Date.now() - this.lastCleanup < 600_000) return;
    this.lastCleanup = Date.now();
    await this.txHost.tx.query(
      `DELETE FROM session_revocations
        WHERE revoked_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [this.keepMs + DAY_MS],
    );
  }

  /** LISTENs on a dedicated connection, reconnecting (and reloading) after any failure. */
  private async listen(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      const client = new Client({
        connectionString: this.databaseUrl,
        application_name: 'girder-revocations',
        keepAlive: true,
      });
      try {
        const closed = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', (message: Notification) => {
          if (message.channel !== REVOCATION_CHANNEL || !message.payload) return;
          this.remember(message.payload.split(','), Date.now());
        });
        await client.connect();
        await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
        this.listener = client;
        attempt = 0;
        // Anything committed while we were not listening.
        await this.load(this.keepMs);
        await closed;
      } catch {
        // Reported by the periodic sync, which fails the same way while PostgreSQL is away.
      } finally {
        this.listener = undefined;
        await client.end().catch(() => undefined);
      }
      if (!this.stopped) {
        await sleep(Math.min(100 * 2 ** attempt, 2_000), undefined, {
          signal: this.stopping.signal,
        }).catch(() => undefined);
      }
    }
  }
}

import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { AppConfig } from '@girder/config';
import { afterCommit, PostgresListener } from '@girder/database';
import { OutageLog } from '@girder/logging';

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
  private readonly listener: PostgresListener;
  private syncedUpTo = 0;
  private syncTimer?: NodeJS.Timeout;
  private lastCleanup = 0;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    config: AppConfig,
  ) {
    // An access token lives JWT_ACCESS_TTL; clocks drift a little.
    this.keepMs = (config.get('JWT_ACCESS_TTL') + 60) * 1000;
    this.listener = new PostgresListener(
      {
        url: config.get('DATABASE_URL'),
        applicationName: 'girder-revocations',
        channels: [REVOCATION_CHANNEL],
      },
      {
        notification: (channel, payload) => {
          if (channel === REVOCATION_CHANNEL && payload)
            this.remember(payload.split(','), Date.now());
        },
        // Anything committed while nothing listened. A failure is the periodic sync's to
        // report: it fails the same way while PostgreSQL is away.
        listening: () => void this.load(this.keepMs).catch(() => undefined),
        lost: () => undefined,
      },
    );
  }

  async onModuleInit(): Promise<void> {
    await this.load(this.keepMs);
    this.listener.start();
    this.syncTimer = setInterval(() => void this.sync(), SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.listener.stop();
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
}

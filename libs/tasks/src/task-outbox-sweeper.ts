import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { OutageLog } from '@girder/logging';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueBackend } from './queue-backend';
import { TaskOutbox } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskQueues } from './task-queues.service';
import { TaskSchedules } from './task-schedules';
import { TasksRepository, type OutboxRow } from './tasks.repository';

/** A committed task younger than this is still being handed off by its submitter. */
export const OUTBOX_GRACE_MS = 1_000;
/** Rows locked and handed off per transaction. */
const BATCH = 100;
/** Rows a periodic reconciliation checks per pass (it carries on where it stopped next time). */
const RECONCILE_ROWS_PER_PASS = 2_000;
/** Stored payloads of tasks that are gone are removed after this long, checked this often. */
const VAULT_ORPHAN_AGE_MS = 60 * 60_000;
const VAULT_CHECK_MS = 10 * 60_000;
/** How long shutdown waits for a pass in flight. */
const STOP_WAIT_MS = 1_000;

/** What one reconciliation pass did. */
export interface ReconcileReport {
  checked: number;
  requeued: number;
  failed: number;
  /** Lost their job but could not be handed off again (the queue not reachable yet). */
  notRequeued: number;
}

/**
 * The worker's side of the outbox, so that the tasks table stays the record and the queue
 * (Redis or BullMQ's PostgreSQL tables, see QueueBackend) only the accelerator:
 *
 * - **Sweep** (every TASK_OUTBOX_SWEEP_MS): committed tasks still queued whose job never
 *   reached the queue (its store down at submit time, a crash between commit and hand-off), older than
 *   OUTBOX_GRACE_MS, are handed off. Rows are locked `FOR UPDATE SKIP LOCKED`, so any number of
 *   workers sweep at once without handing a task off twice at the same moment (and a second
 *   hand-off would be harmless: the job id is the task id).
 * - **Data loss** (`QueueBackend.lostItsData`): on Redis, `<prefix>:queue:epoch` is set when
 *   missing; if it vanishes, Redis restarted empty (or was flushed): the worker that sets it
 *   again re-registers the schedules and reconciles every task at once. On PostgreSQL the jobs
 *   live in the tasks' own database and are never lost apart from them.
 * - **Reconcile** (every TASK_RECONCILE_MS, and at once after data loss): tasks recorded as
 *   handed off, queued, or running without a heartbeat for twice TASK_LOCK_DURATION_MS,
 *   whose job no longer exists are handed off again; they resume from their checkpoint. A task
 *   whose job BullMQ failed without the runner recording it (stalled too often) is failed.
 *   A task a live worker is running is never handed off again (its heartbeat is fresh).
 *
 * Only tasks of this deployment (its REDIS_KEY_PREFIX) are touched.
 */
@Injectable()
export class TaskOutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskOutbox');
  private readonly outage = new OutageLog(this.logger, 'The task outbox sweep', 'warn');
  private readonly sweepMs: number;
  private readonly reconcileMs: number;
  private readonly staleMs: number;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = false;
  private nextReconcileAt = 0;
  private nextVaultCheckAt = 0;
  private reconcileCursor: string | null = null;
  /** The queues' store lost its data and the full reconciliation has not completed yet. */
  private recovering = false;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly outbox: TaskOutbox,
    private readonly queues: TaskQueues,
    private readonly schedules: TaskSchedules,
    private readonly vault: TaskPayloadVault,
    private readonly backend: QueueBackend,
    config: AppConfig,
  ) {
    this.sweepMs = config.get('TASK_OUTBOX_SWEEP_MS');
    this.reconcileMs = config.get('TASK_RECONCILE_MS');
    this.staleMs = 2 * config.get('TASK_LOCK_DURATION_MS');
  }

  onApplicationBootstrap(): void {
    const now = Date.now();
    this.nextReconcileAt = now + this.reconcileMs;
    this.nextVaultCheckAt = now + VAULT_CHECK_MS;
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.pass) await Promise.race([this.pass, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.tick().finally(() => {
        this.pass = undefined;
        this.schedule(this.sweepMs);
      });
    }, delayMs);
  }

  /** One pass: data loss, sweep, and reconciliation or vault clean-up when due. Never throws. */
  async tick(): Promise<void> {
    try {
      if (this.recovering || (await this.backend.lostItsData())) {
        if (!this.recovering) {
          this.recovering = true;
          this.logger.warn(
            `The queues’ ${this.backend.name} lost its data (restarted empty or flushed): re-registering schedules and re-queuing tasks`,
          );
          void this.schedules.registerAll();
        }
        // Until it completes (PostgreSQL may be down too, the queues may not have reconnected
        // yet after the restart), every pass tries again.
        const report = await this.reconcile(Infinity);
        if (report.notRequeued > 0) {
          throw new Error(`${report.notRequeued} task(s) could not be re-queued yet`);
        }
        this.recovering = false;
        this.logger.warn(
          `Recovered from ${this.backend.name} data loss: ${report.requeued} task(s) re-queued, ${report.failed} failed, ${report.checked} checked`,
        );
        this.nextReconcileAt = Date.now() + this.reconcileMs;
      }
      const swept = await this.sweep();
      if (swept > 0) this.logger.log(`Handed off ${swept} task(s) from the outbox`);
      if (Date.now() >= this.nextReconcileAt) {
        this.nextReconcileAt = Date.now() + this.reconcileMs;
        const report = await this.reconcile(RECONCILE_ROWS_PER_PASS);
        if (report.requeued + report.failed > 0) {
          this.logger.warn(
            `Reconciled: ${report.requeued} task(s) had lost their job and were re-queued, ${report.failed} failed`,
          );
        }
      }
      if (Date.now() >= this.nextVaultCheckAt) {
        this.nextVaultCheckAt = Date.now() + VAULT_CHECK_MS;
        const removed = await this.vault.removeOrphans(VAULT_ORPHAN_AGE_MS, (ids) =>
          this.tasks.unfinishedIds(ids),
        );
        if (removed > 0) this.logger.log(`Removed ${removed} stored payload(s) of gone tasks`);
      }
      this.outage.up();
    } catch (error) {
      this.outage.down(error);
    }
  }

  /** Hands off the outbox's committed, unqueued tasks, a locked batch at a time. */
  async sweep(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const { locked, added } = await this.tasks.inOwnTransaction(async () => {
        const rows = await this.tasks.lockUnenqueued(this.outbox.prefix, OUTBOX_GRACE_MS, BATCH);
        return { locked: rows.length, added: rows.length ? await this.outbox.handOff(rows) : [] };
      });
      total += added.length;
      // A short batch is the end; one whose jobs did not get in waits for the next pass.
      if (locked < BATCH || added.length < locked) break;
    }
    return total;
  }

  /**
   * Checks up to `maxRows` handed-off tasks (keyset by id, carrying on where the last pass
   * stopped): those whose job is gone are handed off again, those whose job failed without
   * the runner recording it are failed.
   */
  async reconcile(maxRows: number): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, requeued: 0, failed: 0, notRequeued: 0 };
    let cursor = maxRows === Infinity ? null : this.reconcileCursor;
    while (!this.stopped && report.checked < maxRows) {
      const page = await this.tasks.inOwnTransaction(async () => {
        const rows = await this.tasks.lockHandedOff(
          this.outbox.prefix,
          cursor,
          this.staleMs,
          BATCH,
        );
        const { lost, failed } = await this.jobsMissing(rows);
        for (const { row, reason } of failed) {
          if (await this.tasks.failUnfinished(row.id, reason)) {
            report.failed += 1;
            await this.vault.remove(row.id);
          }
        }
        const requeued = lost.length ? (await this.outbox.handOff(lost)).length : 0;
        report.requeued += requeued;
        report.notRequeued += lost.length - requeued;
        return rows;
      });
      report.checked += page.length;
      cursor = page.at(-1)?.id ?? null;
      if (page.length < BATCH) {
        cursor = null; // the end: the next pass starts over
        break;
      }
    }
    this.reconcileCursor = cursor;
    return report;
  }

  /** Which rows' jobs are gone, and which failed in BullMQ while the record still runs. */
  private async jobsMissing(rows: OutboxRow[]): Promise<{
    lost: OutboxRow[];
    failed: Array<{ row: OutboxRow; reason: string }>;
  }> {
    const lost: OutboxRow[] = [];
    const failed: Array<{ row: OutboxRow; reason: string }> = [];
    const byQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
    for (const [name, queued] of byQueue) {
      const found = await this.backend.findJobs(
        this.queues.get(name),
        queued.map((row) => row.id),
      );
      for (const row of queued) {
        const job = found.get(row.id);
        if (!job) lost.push(row);
        else if (job.failedReason) failed.push({ row, reason: job.failedReason.slice(0, 1_000) });
      }
    }
    return { lost, failed };
  }
}

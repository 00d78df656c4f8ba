import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiClient } from '../support/api-client';
import { e2eRedisUrl } from '../support/redis-mode';
import { TcpProxy } from '../support/tcp-proxy';
import { createApiApp, withEnv } from '../support/test-app';
import { ThrowawayRedis } from '../support/throwaway-redis';
import { createWorkerApp } from '../support/worker-app';
import { ProbeTaskModule, createProbeTable } from './probe-task';

/**
 * The pieces a fault scenario breaks: a throwaway Redis (when the run has one: E2E_REDIS_URL;
 * without it the apps run on PostgreSQL alone, queues included), a TCP proxy in front of the
 * run's PostgreSQL database, and an API and a worker (in this process) wired through them. The
 * shared PostgreSQL server and Redis are never touched.
 */
export class FaultWorld {
  readonly redis = new ThrowawayRedis();
  readonly postgresProxy: TcpProxy;
  /** Straight to PostgreSQL (not through the proxy), for counting. */
  readonly database: DataSource;
  readonly env: Record<string, string>;
  app?: INestApplication;
  worker?: INestApplicationContext;
  api?: ApiClient;

  constructor(extraEnv: Record<string, string> = {}) {
    const url = new URL(process.env.DATABASE_URL!);
    this.postgresProxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    this.database = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
    this.env = {
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_faults_${randomBytes(3).toString('hex')}`,
      WORKER_CONCURRENCY: '2',
      ...extraEnv,
    };
  }

  get databaseUrlThroughProxy(): string {
    const url = new URL(process.env.DATABASE_URL!);
    url.hostname = '127.0.0.1';
    url.port = String(this.postgresProxy.port);
    return url.toString();
  }

  /** Whether this world has a Redis (the run's mode); without it the queues are in PostgreSQL. */
  readonly withRedis = Boolean(e2eRedisUrl);

  async start(parts: { api?: boolean; worker?: boolean } = { api: true, worker: true }) {
    if (this.withRedis) await this.redis.start();
    await this.postgresProxy.start();
    await this.database.initialize();
    await createProbeTable(this.database);
    Object.assign(this.env, {
      REDIS_URL: this.withRedis ? this.redis.url : '',
      DATABASE_URL: this.databaseUrlThroughProxy,
    });
    if (parts.api) await this.startApi();
    if (parts.worker) await this.startWorker();
  }

  async startApi(): Promise<void> {
    this.app = await withEnv(this.env, () => createApiApp({ imports: [ProbeTaskModule] }));
    this.api = new ApiClient(this.app);
  }

  async startWorker(): Promise<void> {
    this.worker = await withEnv(this.env, () => createWorkerApp([ProbeTaskModule]));
  }

  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async stop(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.app?.close().catch(() => undefined);
    await this.redis.kill();
    await this.postgresProxy.stop();
    if (this.database.isInitialized) await this.database.destroy();
  }
}

/** Status codes seen, by code. */
export class StatusCounts {
  readonly counts = new Map<number, number>();

  add(status: number): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
  }

  of(status: number): number {
    return this.counts.get(status) ?? 0;
  }

  /** Responses with a 5xx other than 503 (the only 5xx an outage may produce). */
  get unexpected5xx(): number {
    return [...this.counts]
      .filter(([status]) => status >= 500 && status !== 503)
      .reduce((sum, [, count]) => sum + count, 0);
  }

  get total(): number {
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(',');
  }
}

/** Runs `request` from `concurrency` loops until `durationMs` has passed. */
export async function traffic(
  durationMs: number,
  concurrency: number,
  request: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await request();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }),
  );
}

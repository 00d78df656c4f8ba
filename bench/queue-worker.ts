/**
 * The worker side of `npm run bench:queue`, in its own process so it can be pinned to a CPU
 * of its own (the submitting side is bench/queue.ts):
 *
 *   queue-worker.ts bare     a bare BullMQ worker with a no-op processor (the baseline), on
 *                            Redis or, with BENCH_BARE_SCHEMA, on BullMQ's PostgreSQL backend
 *   queue-worker.ts girder   Girder's worker app (WorkerModule) with the bench's no-op task type
 *
 * Talks over IPC: it answers `ready` once started. The bare worker starts taking jobs at the
 * first `expect` (so a pre-filled queue is timed from its first job), counts completions from
 * each `expect` on and reports `done` with the wall-clock times of the first job taken and the
 * last one completed. The Girder worker needs no counting: the tasks table records it.
 * Settings come from the environment the parent sets (REDIS_URL, WORKER_CONCURRENCY, …; an
 * empty REDIS_URL runs the Girder worker on PostgreSQL alone).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Worker, createPostgresBackend } from 'bullmq';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { BenchTaskTypesModule } from './queue-noop-task';

export type WorkerCommand = { cmd: 'expect'; jobs: number } | { cmd: 'stop' };
export type WorkerReport =
  | { type: 'ready' }
  | { type: 'expecting' }
  | { type: 'done'; firstActiveAt: number; lastCompletedAt: number };

const report = (message: WorkerReport) => process.send?.(message);

/** BullMQ's defaults on the backend of the round: Redis, or PostgreSQL (BENCH_BARE_SCHEMA set). */
function bareWorker(): Worker {
  const concurrency = Number(process.env.WORKER_CONCURRENCY);
  const schema = process.env.BENCH_BARE_SCHEMA;
  if (schema) {
    const connection = { connectionString: process.env.DATABASE_URL!, schema, migrate: true };
    return new Worker(
      'bare',
      async () => ({ ok: true }),
      { connection, concurrency, autorun: false },
      createPostgresBackend,
    ) as unknown as Worker;
  }
  return new Worker('bare', async () => ({ ok: true }), {
    connection: { url: process.env.REDIS_URL, maxRetriesPerRequest: null },
    prefix: process.env.BENCH_BARE_PREFIX,
    concurrency,
    autorun: false,
  });
}

async function bare(): Promise<() => Promise<void>> {
  const worker = bareWorker();
  await worker.waitUntilReady();
  let expected = 0;
  let completed = 0;
  let firstActiveAt = 0;
  worker.on('active', () => {
    if (firstActiveAt === 0) firstActiveAt = Date.now();
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed === expected)
      report({ type: 'done', firstActiveAt, lastCompletedAt: Date.now() });
  });
  worker.on('error', (error) => console.error(`bare worker: ${error.message}`));
  process.on('message', (command: WorkerCommand) => {
    if (command.cmd !== 'expect') return;
    expected = command.jobs;
    completed = 0;
    firstActiveAt = 0;
    if (!worker.isRunning()) worker.run().catch((error: Error) => console.error(error));
    report({ type: 'expecting' });
  });
  return () => worker.close();
}

async function girder(): Promise<() => Promise<void>> {
  @Module({ imports: [WorkerModule, BenchTaskTypesModule] })
  class BenchWorkerModule {}
  const app = await NestFactory.createApplicationContext(BenchWorkerModule, { logger: false });
  return () => app.close();
}

async function main(): Promise<void> {
  const close = process.argv[2] === 'girder' ? await girder() : await bare();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('message', (command: WorkerCommand) => {
    if (command.cmd === 'stop') stop();
  });
  report({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

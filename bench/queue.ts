/**
 * Queue throughput: Girder's worker (tasks table, status updates, TaskRunner) against a bare
 * BullMQ worker doing the same no-op, on the same Redis, same concurrency, same job count.
 *
 *   npm run bench:queue                  # 5,000 jobs, concurrency from WORKER_CONCURRENCY (4)
 *   BENCH_JOBS=5000 npm run bench:queue
 *
 * Uses its own database (girder_bench_<random>) and Redis key prefix, removed at the end.
 * Results go to bench/results/queue.json.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskHandler, TaskType, TasksService } from '@girder/tasks';
import { Queue, Worker } from 'bullmq';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiModule } from '../apps/api/src/api.module';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { runBench, withBenchEnvironment } from './bench-environment';

const JOBS = Number(process.env.BENCH_JOBS ?? 5_000);
let redisUrl = '';
let prefix = '';
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 4);

class NoPayload {}

/** Does nothing, so the figures measure the queue and bookkeeping, not the work. */
@Injectable()
@TaskType({ name: 'bench.noop', queue: 'reports', payload: NoPayload, permission: null })
class NoopTask extends TaskHandler<NoPayload, { ok: true }> {
  async run(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

@Module({ providers: [NoopTask] })
class BenchTaskTypesModule {}

interface Row {
  worker: string;
  jobs: number;
  concurrency: number;
  seconds: number;
  jobsPerSecond: number;
}

async function bareBullmq(): Promise<Row> {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue('bare', { connection, prefix: `${prefix}:bare` });
  await queue.addBulk(
    Array.from({ length: JOBS }, (_, i) => ({
      name: 'noop',
      data: { i },
      opts: { removeOnComplete: true },
    })),
  );
  let done = 0;
  let started = 0;
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('bare', async () => ({ ok: true }), {
      connection,
      prefix: `${prefix}:bare`,
      concurrency,
    });
    // Timed from the first job taken to the last one done, like the Girder figure below.
    worker.once('active', () => (started = performance.now()));
    worker.on('completed', () => {
      done += 1;
      if (done === JOBS) void worker.close().then(() => resolve());
    });
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  return row('bare BullMQ worker (no-op)', seconds);
}

async function girderWorker(): Promise<Row> {
  @Module({ imports: [ApiModule, BenchTaskTypesModule] })
  class BenchApiModule {}
  const api = await NestFactory.createApplicationContext(BenchApiModule, { logger: false });
  const tasks = api.get(TasksService);
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i += 50) {
    const batch = Array.from({ length: Math.min(50, JOBS - i) }, () =>
      tasks.submitAsSystem('bench.noop', {}),
    );
    ids.push(...(await Promise.all(batch)).map((task) => task.id));
  }

  @Module({ imports: [WorkerModule, BenchTaskTypesModule] })
  class BenchWorkerModule {}
  const worker = await NestFactory.createApplicationContext(BenchWorkerModule, { logger: false });
  const { DataSource } = await import('typeorm');
  const db = worker.get(DataSource);
  let seconds = 0;
  for (;;) {
    // From the first task started to the last one finished, as the tasks table records them.
    const [{ n, span }]: Array<{ n: number; span: number }> = await db.query(
      `SELECT count(*)::int AS n,
              extract(epoch FROM max(finished_at) - min(started_at))::float AS span
         FROM tasks WHERE type = 'bench.noop' AND status = 'succeeded'`,
    );
    seconds = span;
    if (n >= ids.length) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await closeAll([worker, api]);
  return row('Girder worker (tasks table + TaskRunner, no-op)', seconds);
}

async function closeAll(apps: INestApplicationContext[]): Promise<void> {
  for (const app of apps) await app.close();
}

function row(worker: string, seconds: number): Row {
  return {
    worker,
    jobs: JOBS,
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    jobsPerSecond: Math.round(JOBS / seconds),
  };
}

async function main(): Promise<void> {
  await withBenchEnvironment(async (environment) => {
    ({ redisUrl, prefix } = environment);
    Object.assign(process.env, {
      DATABASE_URL: environment.databaseUrl,
      DATABASE_READ_URLS: '',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      PORT: '0',
      WORKER_HEALTH_PORT: '0',
      LOG_LEVEL: 'silent',
      LOG_PRETTY: 'false',
    });
    console.log(`Queue benchmark: ${JOBS} jobs, concurrency ${concurrency}, Redis ${redisUrl}`);
    const bare = await bareBullmq();
    const girder = await girderWorker();
    const rows = [bare, girder];
    console.table(rows);
    const ratio = girder.jobsPerSecond / bare.jobsPerSecond;
    console.log(`Girder worker / bare BullMQ = ${(ratio * 100).toFixed(0)}%`);

    const folder = join(__dirname, 'results');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'queue.json'),
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, ratio: Number(ratio.toFixed(3)) }, null, 2)}\n`,
    );
  });
}

runBench(main);

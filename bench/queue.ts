/**
 * `npm run bench:queue`: Girder's task engine against a bare BullMQ worker doing the same
 * no-op, on the same Redis, at the same concurrency, with the same number of jobs; then the
 * same on PostgreSQL alone: Girder with REDIS_URL unset (its queues on BullMQ's PostgreSQL
 * backend) against a bare BullMQ worker on that backend with BullMQ's defaults (rows `pg-…`).
 * BENCH_QUEUE_BACKENDS=redis or =postgres measures one backend only.
 *
 *   npm run bench:queue                            # 3 runs × 5,000 jobs, WORKER_CONCURRENCY (4)
 *   BENCH_DURATION_S=2 BENCH_RUNS=1 npm run bench:queue   # a quick check (1,000 jobs)
 *
 * Settings (environment): BENCH_RUNS (3), BENCH_JOBS (5,000; without it, BENCH_DURATION_S
 * scales it: 500 jobs per second given, at least 200), WORKER_CONCURRENCY (4),
 * BENCH_SUBMIT_CONCURRENCY (50 submissions in flight), BENCH_PIN=0 (no CPU pinning).
 *
 * Two measurements, each for both workers, every run:
 *
 * - End to end (the target, Girder ≥ 0.90× bare): the worker is up and warmed (a few hundred
 *   jobs first); then jobs are submitted, 50 at a time in flight, and the clock runs from the
 *   first submission until the last job is done. Bare: `Queue.add` → the worker's `completed`
 *   event. Girder: `TasksService.submitAsSystem` (the engine's submission path: the tasks row,
 *   then the job via the outbox) → `succeeded` recorded in the tasks table (the span from the
 *   first task's created_at to the last finished_at, both PostgreSQL's clock).
 * - Drain (information): the queue is filled with no worker running, then a fresh worker
 *   takes it all; from the first job started to the last finished (for Girder, the tasks
 *   table's started_at and finished_at).
 *
 * The submitting side is this process (with an ApiModule application context for
 * TasksService); the worker is a child process (bench/queue-worker.ts). With `taskset` and two
 * CPUs or more, this process runs on the first CPU and the worker on the second; PostgreSQL
 * and Redis are not pinned. Each run's ratio is against the bare run of the same round.
 *
 * Uses its own database (girder_bench_<random>), Redis key prefix and STORAGE_DIR, removed at
 * the end. Results: bench/results/queue.json and the Markdown table on stdout
 * (`npm run bench:table` prints it again from the file).
 */
import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TasksService, queueSchema } from '@girder/tasks';
import { Queue, createPostgresBackend } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ApiModule } from '../apps/api/src/api.module';
import {
  benchRuns,
  checkTarget,
  describeSetup,
  resultsHeader,
  detectPinning,
  envNumber,
  machineInfo,
  nextMessage,
  pinSelf,
  round,
  spawnNode,
  spread,
  stopChild,
  TS_NODE,
  withTargets,
  writeResults,
  type Pinning,
  type TargetFields,
} from './bench-support';
import { runBench, withBenchEnvironment, type BenchEnvironment } from './bench-environment';
import { BenchTaskTypesModule, NOOP_TASK } from './queue-noop-task';
import type { WorkerCommand, WorkerReport } from './queue-worker';
import { renderQueue } from './render-table';
import type { QueueResults, QueueRow, QueueRun } from './results-types';

const RUNS = benchRuns();
const SHORT_S = process.env.BENCH_DURATION_S ? envNumber(['BENCH_DURATION_S'], 10) : null;
const JOBS = Math.round(
  envNumber(['BENCH_JOBS'], SHORT_S === null ? 5_000 : Math.max(200, Math.round(500 * SHORT_S))),
);
const WARMUP_JOBS = Math.min(500, Math.max(50, Math.round(JOBS / 10)));
const CONCURRENCY = Math.round(envNumber(['WORKER_CONCURRENCY'], 4));
const SUBMIT_CONCURRENCY = Math.round(envNumber(['BENCH_SUBMIT_CONCURRENCY'], 50));
/** Generous: a drain on a busy machine can be slow, but a stuck one should not hang forever. */
const WAIT_MS = Math.max(120_000, JOBS * 50);

const BACKENDS = (process.env.BENCH_QUEUE_BACKENDS ?? 'redis,postgres')
  .split(',')
  .map((name) => name.trim()) as Array<'redis' | 'postgres'>;

let bench: BenchEnvironment;
let pinning: Pinning;
/** The backend of the round being measured. */
let backend: 'redis' | 'postgres' = 'redis';

type Measured = Pick<QueueRun, 'seconds' | 'submitSeconds'>;

/** Calls `submit(i)` for i < count with at most `inFlight` pending at once. */
async function inPool<T>(
  count: number,
  inFlight: number,
  submit: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await submit(i);
      }
    }),
  );
  return results;
}

async function startWorker(mode: 'bare' | 'girder'): Promise<ChildProcess> {
  const child = spawnNode([...TS_NODE, join(__dirname, 'queue-worker.ts'), mode], {
    cpus: pinning.serverCpus,
    env: {
      ...process.env,
      WORKER_CONCURRENCY: String(CONCURRENCY),
      BENCH_BARE_PREFIX: `${bench.prefix}:bare`,
      ...(backend === 'postgres'
        ? { REDIS_URL: '', BENCH_BARE_SCHEMA: queueSchema(`${bench.prefix}_bare`) }
        : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await nextMessage<WorkerReport>(child, (m) => m.type === 'ready', WAIT_MS);
  return child;
}

// --- bare BullMQ ----------------------------------------------------------------------------

/**
 * Tells the bare worker how many completions to wait for, runs `submit`, and answers the
 * worker's report with the submission's start and end (wall clock, shared by both processes).
 */
async function bareBatch(child: ChildProcess, jobs: number, submit: () => Promise<unknown>) {
  const done = nextMessage<WorkerReport & { type: 'done' }>(
    child,
    (m) => m.type === 'done',
    WAIT_MS,
  );
  done.catch(() => undefined); // awaited below; this only keeps an early failure handled
  const expecting = nextMessage<WorkerReport>(child, (m) => m.type === 'expecting');
  child.send({ cmd: 'expect', jobs } satisfies WorkerCommand);
  await expecting;
  const startedAt = Date.now();
  await submit();
  const submittedAt = Date.now();
  return { ...(await done), startedAt, submittedAt };
}

async function bareRun(queue: Queue): Promise<{ drain: Measured; endToEnd: Measured }> {
  const job = (i: number) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } });
  for (let i = 0; i < JOBS; i += 1_000)
    await queue.addBulk(Array.from({ length: Math.min(1_000, JOBS - i) }, (_, j) => job(i + j)));
  const child = await startWorker('bare');
  try {
    const drained = await bareBatch(child, JOBS, async () => undefined);
    const drain = {
      seconds: (drained.lastCompletedAt - drained.firstActiveAt) / 1000,
      submitSeconds: null,
    };
    const add = (i: number) => queue.add(job(i).name, job(i).data, job(i).opts);
    await bareBatch(child, WARMUP_JOBS, () => inPool(WARMUP_JOBS, SUBMIT_CONCURRENCY, add));
    const run = await bareBatch(child, JOBS, () => inPool(JOBS, SUBMIT_CONCURRENCY, add));
    return {
      drain,
      endToEnd: {
        seconds: (run.lastCompletedAt - run.startedAt) / 1000,
        submitSeconds: (run.submittedAt - run.startedAt) / 1000,
      },
    };
  } finally {
    await stopChild(child);
  }
}

// --- Girder ---------------------------------------------------------------------------------

async function waitForSucceeded(db: DataSource, total: number, worker: ChildProcess) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const [{ succeeded, failed }]: Array<{ succeeded: number; failed: number }> = await db.query(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM tasks WHERE type = $1`,
      [NOOP_TASK],
    );
    if (failed > 0) throw new Error(`${failed} bench task(s) failed`);
    if (succeeded >= total) return;
    if (worker.exitCode !== null || worker.signalCode !== null)
      throw new Error(`the Girder worker exited (${worker.exitCode ?? worker.signalCode})`);
    if (Date.now() > deadline)
      throw new Error(`only ${succeeded} of ${total} tasks succeeded after ${WAIT_MS} ms`);
    // Rare polls: the figures come from the recorded timestamps, not from when we notice.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Seconds from the earliest `from` to the latest finished_at of these tasks (PostgreSQL's clock). */
async function span(db: DataSource, ids: string[], from: 'created_at' | 'started_at') {
  const [{ seconds, succeeded }]: Array<{ seconds: number; succeeded: number }> = await db.query(
    `SELECT extract(epoch FROM max(finished_at) - min(${from}))::float AS seconds,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
       FROM tasks WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  if (succeeded !== ids.length) throw new Error(`${succeeded} of ${ids.length} tasks succeeded`);
  return seconds;
}

async function girderRun(
  api: INestApplicationContext,
): Promise<{ drain: Measured; endToEnd: Measured }> {
  const tasks = api.get(TasksService);
  const db = api.get(DataSource);
  const submit = (count: number) =>
    inPool(count, SUBMIT_CONCURRENCY, async () => (await tasks.submitAsSystem(NOOP_TASK, {})).id);
  // Each run starts from an empty table (no worker is running; nothing else uses it).
  await db.query('TRUNCATE tasks');
  const queued = await submit(JOBS);
  const child = await startWorker('girder');
  try {
    await waitForSucceeded(db, JOBS, child);
    const drain = { seconds: await span(db, queued, 'started_at'), submitSeconds: null };
    await submit(WARMUP_JOBS);
    await waitForSucceeded(db, JOBS + WARMUP_JOBS, child);
    const startedAt = Date.now();
    const ids = await submit(JOBS);
    const submitSeconds = (Date.now() - startedAt) / 1000;
    await waitForSucceeded(db, 2 * JOBS + WARMUP_JOBS, child);
    return { drain, endToEnd: { seconds: await span(db, ids, 'created_at'), submitSeconds } };
  } finally {
    await stopChild(child);
  }
}

// --- Results --------------------------------------------------------------------------------

const ROWS = [
  {
    id: 'bare-end-to-end',
    name: 'bare BullMQ worker, no-op (baseline)',
    worker: 'bare',
    measure: 'end-to-end',
    comparedTo: null,
  },
  {
    id: 'girder-end-to-end',
    name: 'Girder worker (TasksService → succeeded in PostgreSQL)',
    worker: 'girder',
    measure: 'end-to-end',
    comparedTo: 'bare-end-to-end',
  },
  {
    id: 'bare-drain',
    name: 'bare BullMQ worker, no-op',
    worker: 'bare',
    measure: 'drain',
    comparedTo: null,
  },
  {
    id: 'girder-drain',
    name: 'Girder worker (tasks table + TaskRunner)',
    worker: 'girder',
    measure: 'drain',
    comparedTo: 'bare-drain',
  },
] as const;

/** The same four rows on PostgreSQL alone: each against the bare worker on the same backend. */
const PG_ROWS = ROWS.map((row) => ({
  ...row,
  id: `pg-${row.id}`,
  name: `${row.name}, PostgreSQL backend`,
  comparedTo: row.comparedTo === null ? null : `pg-${row.comparedTo}`,
}));

function queueRows(measured: Map<string, Measured[]>): QueueRow[] {
  return [...ROWS, ...PG_ROWS]
    .filter((row) => measured.get(row.id)?.length)
    .map((definition) => {
      const baseline = definition.comparedTo ? measured.get(definition.comparedTo)! : null;
      const runs: QueueRun[] = measured.get(definition.id)!.map((m, i) => ({
        seconds: round(m.seconds, 3),
        jobsPerSecond: Math.round(JOBS / m.seconds),
        submitSeconds: m.submitSeconds === null ? null : round(m.submitSeconds, 3),
        ratio: baseline ? round(baseline[i].seconds / m.seconds, 3) : null,
      }));
      const row: Omit<QueueRow, keyof TargetFields> = {
        ...definition,
        baseline: definition.comparedTo === null,
        jobs: JOBS,
        concurrency: CONCURRENCY,
        runs,
        jobsPerSecond: spread(runs.map((r) => r.jobsPerSecond)),
        seconds: spread(
          runs.map((r) => r.seconds),
          3,
        ),
        ratio: baseline
          ? spread(
              runs.map((r) => r.ratio!),
              2,
            )
          : null,
      };
      const targets =
        definition.id === 'girder-end-to-end' || definition.id === 'pg-girder-end-to-end'
          ? [checkTarget('≥ 0.90×', 'ratio', '>=', 0.9, row.ratio!.median)]
          : [];
      return withTargets(row, targets);
    });
}

async function main(): Promise<void> {
  pinning = detectPinning(['submitter', 'worker']);
  pinSelf(pinning);
  const machine = machineInfo(pinning);
  console.error(
    `Queue benchmark: ${RUNS} run(s) × ${JOBS} jobs (+${WARMUP_JOBS} warm-up end to end), concurrency ${CONCURRENCY}, ${SUBMIT_CONCURRENCY} submissions in flight`,
  );
  console.error(`  ${describeSetup(machine, pinning)}`);
  let results: QueueResults | undefined;
  await withBenchEnvironment(async (environment) => {
    bench = environment;
    Object.assign(process.env, {
      DATABASE_URL: environment.databaseUrl,
      DATABASE_READ_URLS: '',
      REDIS_URL: environment.redisUrl,
      REDIS_KEY_PREFIX: environment.prefix,
      STORAGE_DIR: environment.storageDir,
      PORT: '0',
      WORKER_HEALTH_PORT: '0',
      LOG_LEVEL: 'silent',
      LOG_PRETTY: 'false',
    });
    @Module({ imports: [ApiModule, BenchTaskTypesModule] })
    class BenchApiModule {}
    const measured = new Map<string, Measured[]>([...ROWS, ...PG_ROWS].map((row) => [row.id, []]));
    for (const name of BACKENDS) {
      backend = name;
      const rowId = (id: string) => (name === 'postgres' ? `pg-${id}` : id);
      // Girder picks its backend from REDIS_URL when the application context is built.
      process.env.REDIS_URL = name === 'postgres' ? '' : environment.redisUrl;
      const api = await NestFactory.createApplicationContext(BenchApiModule, { logger: false });
      const queue =
        name === 'postgres'
          ? (new Queue(
              'bare',
              {
                connection: {
                  connectionString: environment.databaseUrl,
                  schema: queueSchema(`${environment.prefix}_bare`),
                  migrate: true,
                },
              },
              createPostgresBackend,
            ) as unknown as Queue)
          : new Queue('bare', {
              connection: { url: environment.redisUrl, maxRetriesPerRequest: null },
              prefix: `${environment.prefix}:bare`,
            });
      try {
        for (let run = 1; run <= RUNS; run += 1) {
          console.error(`Run ${run}/${RUNS} (${name})`);
          const bare = await bareRun(queue);
          const girder = await girderRun(api);
          measured.get(rowId('bare-end-to-end'))!.push(bare.endToEnd);
          measured.get(rowId('girder-end-to-end'))!.push(girder.endToEnd);
          measured.get(rowId('bare-drain'))!.push(bare.drain);
          measured.get(rowId('girder-drain'))!.push(girder.drain);
          const perSecond = (m: Measured) => Math.round(JOBS / m.seconds);
          console.error(
            `  end to end: bare ${perSecond(bare.endToEnd)} jobs/s, Girder ${perSecond(girder.endToEnd)} jobs/s (submitting took ${girder.endToEnd.submitSeconds!.toFixed(2)} s of ${girder.endToEnd.seconds.toFixed(2)} s)`,
          );
          console.error(
            `  drain:      bare ${perSecond(bare.drain)} jobs/s, Girder ${perSecond(girder.drain)} jobs/s`,
          );
        }
      } finally {
        await queue.close();
        await api.close();
      }
    }
    results = {
      bench: 'queue',
      ...resultsHeader(machine, pinning),
      settings: {
        runs: RUNS,
        jobs: JOBS,
        warmupJobs: WARMUP_JOBS,
        concurrency: CONCURRENCY,
        submitConcurrency: SUBMIT_CONCURRENCY,
      },
      rows: queueRows(measured),
    };
  });
  const file = writeResults('queue', results!);
  console.error(`Results written to ${file}`);
  console.log(renderQueue(results!));
}

runBench(main);

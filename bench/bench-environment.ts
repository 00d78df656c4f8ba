import { dropDatabase, ensureDatabaseExists, runPendingMigrations } from '@girder/database';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createCliDataSource } from '../ormconfig';

/** A benchmark's own world: a fresh migrated database and a Redis key prefix, removed after. */
export interface BenchEnvironment {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}

export async function withBenchEnvironment(
  work: (environment: BenchEnvironment) => Promise<void>,
): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/girder');
  url.pathname = `/girder_bench_${run}`;
  const environment = {
    databaseUrl: url.toString(),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    prefix: `girder_bench_${run}`,
  };
  await ensureDatabaseExists(environment.databaseUrl);
  await runPendingMigrations(
    createCliDataSource({ ...process.env, DATABASE_URL: environment.databaseUrl }),
  );
  const redis = new Redis(environment.redisUrl);
  try {
    await work(environment);
  } finally {
    const keys = await redis.keys(`${environment.prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await dropDatabase(environment.databaseUrl);
  }
}

/** Runs a benchmark script's main and exits with its outcome (children and pools included). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

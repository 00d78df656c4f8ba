import { dropDatabase, ensureDatabaseExists, runPendingMigrations } from '@girder/database';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A benchmark's own world: a fresh migrated database, a Redis key prefix and a STORAGE_DIR,
 * all removed after.
 */
export interface BenchEnvironment {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  storageDir: string;
}

export async function withBenchEnvironment(
  work: (environment: BenchEnvironment) => Promise<void>,
): Promise<void> {
  const run = randomBytes(4).toString('hex');
  // The bench runs against a real PostgreSQL: the local one unless DATABASE_URL says otherwise
  // (set before ormconfig loads, which insists on one).
  process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/girder';
  const { createCliDataSource } = await import('../ormconfig');
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/girder_bench_${run}`;
  const environment = {
    databaseUrl: url.toString(),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    prefix: `girder_bench_${run}`,
    storageDir: mkdtempSync(join(tmpdir(), `girder_bench_${run}_`)),
  };
  await ensureDatabaseExists(environment.databaseUrl);
  const redis = new Redis(environment.redisUrl);
  try {
    await runPendingMigrations(
      createCliDataSource({ ...process.env, DATABASE_URL: environment.databaseUrl }),
    );
    await work(environment);
  } finally {
    // SCAN, not KEYS: the Redis may be shared with other runs (KEYS blocks it while it looks).
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${environment.prefix}*`, count: 1000 }))
      keys.push(...(batch as string[]));
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    await redis.quit();
    await dropDatabase(environment.databaseUrl);
    rmSync(environment.storageDir, { recursive: true, force: true });
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

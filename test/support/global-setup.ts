import './register-paths';
import {
  assertTestDatabase,
  EmbeddedPostgres,
  embeddedPostgresUrl,
  ensureDatabaseExists,
  runPendingMigrations,
} from '@girder/database';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopWhenJestExits } from './embedded-postgres-watchdog';

/**
 * One isolated world per `npm test` run: a fresh database `girder_e2e_test_<random>` migrated
 * from scratch, a Redis key prefix of its own and a temporary storage folder. Jest's workers
 * inherit these variables; global-teardown removes all three.
 *
 * The database is on `E2E_DATABASE_URL`'s server when set (CI's "real services" run), else on
 * an embedded PostgreSQL started for this run (its own data folder and free port; stopped and
 * removed by global-teardown, or by a watchdog if jest dies first).
 */
export default async function globalSetup(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const base = new URL(process.env.E2E_DATABASE_URL ?? (await startEmbeddedPostgres(run)));
  base.pathname = `/girder_e2e_test_${run}`;
  const databaseUrl = base.toString();
  assertTestDatabase(databaseUrl);

  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATABASE_READ_URLS: '',
    // No E2E_REDIS_URL: the suites run in the Redis-free mode (PostgreSQL alone).
    REDIS_URL: process.env.E2E_REDIS_URL ?? '',
    REDIS_KEY_PREFIX: `girder_test_${run}`,
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    STORAGE_DIR: mkdtempSync(join(tmpdir(), `girder-e2e-${run}-`)),
    SMTP_URL: '',
    ADMIN_EMAIL: 'admin@e2e.test',
    ADMIN_PASSWORD: 'e2e-admin-password',
    GIRDER_E2E_RUN: run,
    // Cheaper hashing and quick stalled-job recovery keep the suites fast; production keeps the defaults.
    PASSWORD_HASH_MEMORY_KIB: '8192',
    PASSWORD_HASH_ITERATIONS: '1',
    TASK_LOCK_DURATION_MS: '2000',
    TASK_STALLED_INTERVAL_MS: '1000',
    // Every suite calls from 127.0.0.1 and logs the admin in often; the rate-limit suite
    // lowers these for its own apps.
    RATE_LIMIT_PER_MINUTE: '1000000',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
    REGISTER_RATE_LIMIT_PER_MINUTE: '1000000',
    ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE: '1000000',
    ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR: '1000000',
  });

  await ensureDatabaseExists(databaseUrl);
  // Imported now: ormconfig builds the TypeORM CLI's data source from process.env on load.
  const { createCliDataSource } = await import('../../ormconfig');
  await runPendingMigrations(createCliDataSource(process.env));
}

async function startEmbeddedPostgres(run: string): Promise<string> {
  // Not mkdtemp (0700): as root the server runs as the postgres user, which must reach it.
  const directory = join(tmpdir(), `girder-e2e-${run}-postgres`);
  const running = await new EmbeddedPostgres({ directory, durable: false }).start();
  process.env.GIRDER_E2E_POSTGRES_DIR = directory;
  stopWhenJestExits(directory);
  return embeddedPostgresUrl(running.port, 'postgres');
}

import './register-paths';
import { assertTestDatabase, ensureDatabaseExists, runPendingMigrations } from '@girder/database';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCliDataSource } from '../../ormconfig';

/**
 * One isolated world per `npm test` run: a fresh database `girder_e2e_test_<random>` migrated
 * from scratch, a Redis key prefix of its own and a temporary storage folder. Jest's workers
 * inherit these variables; global-teardown removes all three.
 */
export default async function globalSetup(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const base = new URL(
    process.env.E2E_DATABASE_URL ??
      process.env.DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/girder',
  );
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
  await runPendingMigrations(createCliDataSource(process.env));
}

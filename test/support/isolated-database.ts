import {
  assertTestDatabase,
  dropDatabase,
  ensureDatabaseExists,
  runPendingMigrations,
} from '@girder/database';
import { randomBytes } from 'node:crypto';
import { createCliDataSource } from '../../ormconfig';

/**
 * A migrated database of its own, beside the run's shared one, for tests that need a world no
 * other suite touches (e.g. one with a single admin). Drop it in afterAll.
 */
export async function createIsolatedDatabase(
  tag: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `${url.pathname}_${tag}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = url.toString();
  assertTestDatabase(databaseUrl);
  await ensureDatabaseExists(databaseUrl);
  const dataSource = createCliDataSource({ ...process.env, DATABASE_URL: databaseUrl });
  await runPendingMigrations(dataSource);
  return { url: databaseUrl, drop: () => dropDatabase(databaseUrl) };
}

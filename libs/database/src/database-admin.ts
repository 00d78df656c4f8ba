import { Client } from 'pg';
import type { DataSource } from 'typeorm';

const SAFE_DATABASE_NAME = /^[A-Za-z0-9_]{1,63}$/;

function splitUrl(url: string): { name: string; maintenanceUrl: string } {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!SAFE_DATABASE_NAME.test(name)) {
    throw new Error(`Database name "${name}" must be 1..63 characters of A-Z a-z 0-9 _`);
  }
  parsed.pathname = '/postgres';
  return { name, maintenanceUrl: parsed.toString() };
}

/**
 * Creates the database named in `url` when it does not exist yet, so a fresh machine needs no
 * manual `createdb`. Identifiers cannot be bound as parameters, hence the strict name check.
 */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const { name, maintenanceUrl } = splitUrl(url);
  const client = new Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (error) {
      // Another process created it between our check and our CREATE.
      if ((error as { code?: string }).code !== '42P04') throw error;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Drops the database named in `url` (tests only; callers check the name first). */
export async function dropDatabase(url: string): Promise<void> {
  const { name, maintenanceUrl } = splitUrl(url);
  const client = new Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Applies pending migrations and returns their names. */
export async function runPendingMigrations(dataSource: DataSource): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

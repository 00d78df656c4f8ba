import './register-paths';
import { assertTestDatabase, dropDatabase, EmbeddedPostgres } from '@girder/database';
import Redis from 'ioredis';
import { rmSync } from 'node:fs';

/** Removes everything global-setup created for this run, so suites can run again and again. */
export default async function globalTeardown(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const prefix = process.env.REDIS_KEY_PREFIX;
  if (!process.env.GIRDER_E2E_RUN || !databaseUrl || !prefix) return;

  assertTestDatabase(databaseUrl);
  const embedded = process.env.GIRDER_E2E_POSTGRES_DIR;
  if (embedded) {
    // The run's own server: stopping it and removing its folder removes the database too.
    await new EmbeddedPostgres({ directory: embedded }).stop();
    rmSync(embedded, { recursive: true, force: true });
  } else {
    await dropDatabase(databaseUrl);
  }

  if (process.env.REDIS_URL) await removeRedisKeys(process.env.REDIS_URL, prefix);

  if (process.env.STORAGE_DIR) rmSync(process.env.STORAGE_DIR, { recursive: true, force: true });
}

async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

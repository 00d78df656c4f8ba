import { runMain } from '@girder/lifecycle';
import { ensureDatabaseExists, runPendingMigrations } from '@girder/database';

/**
 * `npm run db:migrate`: creates the database if it is missing and applies pending migrations.
 * `npm start` and the Docker `migrate` service run it before the apps start.
 */
runMain('migrate', async () => {
  // Loaded once runMain has settled DATABASE_URL (ormconfig builds the CLI's data source on load).
  const { createCliDataSource } = await import('../../../ormconfig');
  const dataSource = createCliDataSource();
  const url = (dataSource.options as { url: string }).url;
  if (await ensureDatabaseExists(url))
    process.stdout.write(`[migrate] created database ${new URL(url).pathname.slice(1)}\n`);
  const applied = await runPendingMigrations(dataSource);
  process.stdout.write(
    applied.length > 0
      ? `[migrate] applied ${applied.join(', ')}\n`
      : '[migrate] database is up to date\n',
  );
});

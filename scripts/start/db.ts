/**
 * `npm run db:start` / `db:stop` / `db:status`: this project's embedded PostgreSQL on its own,
 * for running `npm run start:api`, `start:worker`, `db:migrate` or `start:dev` separately
 * (they find it when DATABASE_URL is not set). `npm start` uses the same server when it runs.
 */
import {
  EmbeddedPostgres,
  embeddedPostgresDirectory,
  embeddedPostgresUrl,
  ensureDatabaseExists,
  findRunningEmbeddedPostgres,
} from '@girder/database';
import { config as loadDotenv } from 'dotenv';

async function main(command: string | undefined): Promise<void> {
  loadDotenv({ quiet: true });
  const { directory, note } = embeddedPostgresDirectory(process.cwd(), process.env);
  if (note) process.stdout.write(`[postgres] ${note}\n`);
  const server = new EmbeddedPostgres({
    directory,
    log: (line) => process.stdout.write(`[postgres] ${line}\n`),
  });
  switch (command) {
    case 'start': {
      const running = await server.start();
      const url = embeddedPostgresUrl(running.port);
      await ensureDatabaseExists(url);
      process.stdout.write(
        `[postgres] ${running.reused ? 'already running' : 'started'} on 127.0.0.1:${running.port} ` +
          `(data in ${directory}): DATABASE_URL=${url}\n` +
          '[postgres] apps started without DATABASE_URL use it; npm run db:stop stops it\n',
      );
      return;
    }
    case 'stop':
      await server.stop();
      process.stdout.write('[postgres] stopped\n');
      return;
    case 'status': {
      const running = findRunningEmbeddedPostgres(directory);
      process.stdout.write(
        running
          ? `[postgres] running on 127.0.0.1:${running.port} (pid ${running.pid}, data in ${directory})\n`
          : `[postgres] not running (data in ${directory})\n`,
      );
      return;
    }
    default:
      throw new Error('usage: db.ts start | stop | status');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`[postgres] ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});

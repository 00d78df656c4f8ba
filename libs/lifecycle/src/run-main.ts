import {
  DATABASE_URL_MISSING,
  type Environment,
  InvalidEnvironmentError,
  validateEnvironment,
} from '@girder/config';
import { useEmbeddedPostgresIfRunning } from '@girder/database';
import cluster from 'node:cluster';
import { resolveProcessCount, superviseCluster } from './cluster-supervisor';
import { config as loadDotenv } from 'dotenv';

/**
 * Runs an app's bootstrap and turns a failed start into one readable message and exit 1.
 * The environment is checked before Nest starts, so a bad variable yields a list of every
 * bad variable instead of a framework stack trace.
 */
export interface RunMainOptions {
  /** Run this many processes sharing the port (node:cluster), e.g. from API_WORKERS. */
  processes?: (environment: Environment) => string;
}

export function runMain(
  name: string,
  bootstrap: () => Promise<unknown>,
  options: RunMainOptions = {},
): void {
  // The same precedence as @nestjs/config: real environment variables win over .env.
  loadDotenv({ quiet: true });
  // No DATABASE_URL in development: the embedded PostgreSQL of `npm start` / `npm run db:start`.
  useEmbeddedPostgresIfRunning(process.env);
  let environment: Environment;
  try {
    environment = validateEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    const [only] = error.problems;
    const message =
      error.problems.length === 1 && only === DATABASE_URL_MISSING ? only : error.message;
    process.stderr.write(`[${name}] ${message}\n`);
    process.exit(1);
  }
  if (process.channel && cluster.isPrimary) stopWhenTheLauncherDies();
  const processes = options.processes ? resolveProcessCount(options.processes(environment)) : 1;
  if (processes > 1 && cluster.isPrimary) {
    superviseCluster({ name, processes, shutdownTimeoutMs: environment.SHUTDOWN_TIMEOUT_MS });
    return;
  }
  bootstrap().catch((error: unknown) => {
    process.stderr.write(
      `[${name}] failed to start: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exit(1);
  });
}

/**
 * Started by a launcher over an IPC channel (`npm start`): when the launcher dies, however it
 * dies (kill -9 included), the channel closes and this process shuts down as on SIGTERM
 * (draining), instead of being left behind holding its port.
 */
function stopWhenTheLauncherDies(): void {
  process.channel?.unref(); // the channel alone keeps no process alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import pino from 'pino';
import { CLUSTER_SHUTDOWN_MESSAGE } from './graceful-shutdown';

export interface ClusterOptions {
  /** Log name, e.g. `api`. */
  name: string;
  /** How many processes to run. */
  processes: number;
  /** How long SIGTERM waits for the processes to drain before killing them. */
  shutdownTimeoutMs: number;
}

/** More crashes than this within CRASH_WINDOW_MS means the code is broken, not unlucky. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 30_000;
const RESTART_DELAY_MS = 500;

/** `API_WORKERS` as a count: a number, or `auto` for one process per available CPU. */
export function resolveProcessCount(setting: string): number {
  return setting === 'auto' ? availableParallelism() : Number(setting);
}

/**
 * The primary of a node:cluster, like gunicorn's arbiter: forks `processes` copies of this
 * script (they share the listening port), replaces one that crashes, and on SIGTERM or
 * SIGINT asks every copy to shut down gracefully and exits once they have.
 */
export function superviseCluster(options: ClusterOptions): void {
  const logger = pino({ base: { service: `${options.name}-primary`, pid: process.pid } });
  const crashes: number[] = [];
  let stopping = false;

  const fork = (): Worker => cluster.fork({ GIRDER_CLUSTER_WORKER: '1' });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0] < now - CRASH_WINDOW_MS) crashes.shift();
    logger.error(
      { workerPid: worker.process.pid, code, signal },
      `${options.name} process exited unexpectedly; starting a replacement`,
    );
    if (crashes.length > MAX_CRASHES) {
      logger.fatal(`${crashes.length} crashes in ${CRASH_WINDOW_MS / 1000} s: giving up`);
      void stop(1);
      return;
    }
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS);
  });

  const stop = async (exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    logger.info(`Stopping ${workers.length} ${options.name} process(es)`);
    const exited = workers.map(
      (worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())),
    );
    // A message, not SIGTERM: on Ctrl-C the terminal has already sent SIGINT to every process,
    // and a second signal would make them skip draining.
    for (const worker of workers) if (worker.isConnected()) worker.send(CLUSTER_SHUTDOWN_MESSAGE);
    const deadline = setTimeout(() => {
      logger.error('Processes did not stop in time; killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
    }, options.shutdownTimeoutMs + 2_000);
    await Promise.all(exited);
    clearTimeout(deadline);
    logger.info('Shutdown complete');
    process.exit(exitCode);
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));

  logger.info(`Starting ${options.processes} ${options.name} processes`);
  for (let i = 0; i < options.processes; i += 1) fork();
}

import cluster from 'node:cluster';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';

export interface GracefulShutdownOptions {
  timeoutMs: number;
  logger: LoggerService;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
}

/**
 * On SIGTERM/SIGINT: stop accepting work, let in-flight requests and jobs finish (Nest's
 * shutdown hooks close the HTTP server, queues and pools), then exit 0. If that takes longer
 * than `timeoutMs`, or a second signal arrives, exit 1 at once.
 *
 * Nest's own `enableShutdownHooks()` re-raises the signal after closing, which makes the
 * process end with 143/130 instead of 0; process managers read that as a crash.
 */
/** What a cluster primary sends its processes to have them drain and exit. */
export const CLUSTER_SHUTDOWN_MESSAGE = 'girder:shutdown';

export function installGracefulShutdown(
  app: INestApplicationContext,
  options: GracefulShutdownOptions,
): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      options.logger.warn?.(`Received ${signal} again, exiting now`);
      exit(1);
      return;
    }
    shutDown(`Received ${signal}`);
  };

  /** Idempotent: a cluster primary's request may arrive together with the terminal's Ctrl-C. */
  const shutDown = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    options.logger.log(`${reason}, shutting down (up to ${options.timeoutMs} ms)`);
    const deadline = setTimeout(() => {
      options.logger.error(`Shutdown did not finish within ${options.timeoutMs} ms, exiting`);
      exit(1);
    }, options.timeoutMs);
    deadline.unref();
    app
      .close()
      .then(() => {
        clearTimeout(deadline);
        options.logger.log('Shutdown complete');
        exit(0);
      })
      .catch((error: unknown) => {
        clearTimeout(deadline);
        options.logger.error(`Shutdown failed: ${(error as Error).stack ?? String(error)}`);
        exit(1);
      });
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, onSignal);
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message === CLUSTER_SHUTDOWN_MESSAGE) shutDown('The cluster primary asked');
    });
    // The primary is gone (even SIGKILLed): nobody will route connections here any more.
    process.once('disconnect', () => shutDown('The cluster primary disconnected'));
  }
}

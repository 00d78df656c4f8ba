import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@girder/config';
import { installGracefulShutdown, runMain } from '@girder/lifecycle';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

runMain('worker', async () => {
  // An application context, not an HTTP app: the worker's only listener is its health port.
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  installGracefulShutdown(app, {
    timeoutMs: app.get(AppConfig).get('SHUTDOWN_TIMEOUT_MS'),
    logger,
  });
  logger.log('Worker started', 'Bootstrap');
});

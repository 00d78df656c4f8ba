import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig } from '@girder/config';
import { configureHttpApp } from '@girder/http';
import { installGracefulShutdown, runMain } from '@girder/lifecycle';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { API_HTTP_OPTIONS } from './http-options';

// API_WORKERS > 1: this process becomes a cluster primary and forks that many copies of itself.
runMain(
  'api',
  async () => {
    const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
      bufferLogs: true,
      abortOnError: false,
      bodyParser: false,
    });
    const logger = app.get(Logger);
    app.useLogger(logger);
    configureHttpApp(app, API_HTTP_OPTIONS);

    const config = app.get(AppConfig);
    installGracefulShutdown(app, { timeoutMs: config.get('SHUTDOWN_TIMEOUT_MS'), logger });
    await app.listen(config.get('PORT'));
    logger.log(
      `API listening on http://localhost:${config.get('PORT')} (Swagger UI at /docs)`,
      'Bootstrap',
    );
  },
  { processes: (environment) => environment.API_WORKERS },
);

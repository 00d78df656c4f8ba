import type { DynamicModule, ForwardReference, Provider, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { configureHttpApp } from '@girder/http';
import { Logger } from 'nestjs-pino';
import { ApiModule } from '../../apps/api/src/api.module';
import { API_HTTP_OPTIONS } from '../../apps/api/src/http-options';

export interface TestAppOptions {
  imports?: Array<Type | DynamicModule | ForwardReference>;
  controllers?: Type[];
  providers?: Provider[];
  /** Swap providers (e.g. a recording ErrorReporter) before compiling. */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * The real API (same root module, same `configureHttpApp` as main.ts) on the run's database
 * and Redis prefix. Tests talk to it over HTTP with supertest.
 */
export async function createApiApp(options: TestAppOptions = {}): Promise<NestExpressApplication> {
  let builder = Test.createTestingModule({
    imports: [ApiModule, ...(options.imports ?? [])],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  });
  if (options.configure) builder = options.configure(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  configureHttpApp(app, API_HTTP_OPTIONS);
  await app.init();
  return app;
}

/** Runs `work` with some environment variables changed, restoring them afterwards. */
export async function withEnv<T>(
  changes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(changes).map((key) => [key, process.env[key]]));
  Object.assign(process.env, changes);
  try {
    return await work();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

import {
  Module,
  type DynamicModule,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from '../../apps/worker/src/worker.module';

/** The real worker module graph in this process (plus test-only modules), as an application context. */
export async function createWorkerApp(
  extra: Array<Type | DynamicModule> = [],
): Promise<INestApplicationContext> {
  @Module({ imports: [WorkerModule, ...extra] })
  class TestWorkerModule {}
  return NestFactory.createApplicationContext(TestWorkerModule, {
    logger: false,
    abortOnError: false,
  });
}

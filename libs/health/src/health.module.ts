import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';
import { RedisHealthIndicator } from './redis.health';
import { WorkerHealthServer } from './worker-health.server';

const shared = [ReadinessService, RedisHealthIndicator];

@Module({})
export class HealthModule {
  /** `/health/live` and `/health/ready` as routes of the HTTP API. */
  static forApi() {
    return {
      module: HealthModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: shared,
      exports: shared,
    };
  }

  /** The same endpoints on the worker's own small listener (WORKER_HEALTH_PORT). */
  static forWorker() {
    return {
      module: HealthModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [...shared, WorkerHealthServer],
      exports: [...shared, WorkerHealthServer],
    };
  }
}

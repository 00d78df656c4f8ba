import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { REQUIRED_CHECKS, ReadinessService } from './readiness.service';
import { RedisHealthIndicator } from './redis.health';
import { WorkerHealthServer } from './worker-health.server';

const shared = [ReadinessService, RedisHealthIndicator];

/** The checks each app cannot do its job without (API.md, Operations: `GET /health/ready`). */
const requiredChecks = (names: string[]) => ({ provide: REQUIRED_CHECKS, useValue: names });

@Module({})
export class HealthModule {
  /**
   * `/health/live` and `/health/ready` as routes of the HTTP API. Unready only without
   * PostgreSQL: with Redis down it still serves (cache bypassed, rate limits in memory).
   */
  static forApi() {
    return {
      module: HealthModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [...shared, requiredChecks(['database'])],
      exports: shared,
    };
  }

  /**
   * The same endpoints on the worker's own small listener (WORKER_HEALTH_PORT). Unready
   * without PostgreSQL or the queues' Redis.
   */
  static forWorker() {
    return {
      module: HealthModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [...shared, requiredChecks(['database', 'queues']), WorkerHealthServer],
      exports: [...shared, WorkerHealthServer],
    };
  }
}

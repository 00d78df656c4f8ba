import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { RedisHealthIndicator } from './redis.health';

export interface ReadinessReport {
  healthy: boolean;
  result: HealthCheckResult;
}

/**
 * The readiness checks shared by the API and the worker: PostgreSQL and Redis, plus any a
 * feature registers (the queues add their own Redis connection).
 */
@Injectable()
export class ReadinessService {
  private readonly extraChecks: HealthIndicatorFunction[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  register(check: HealthIndicatorFunction): void {
    this.extraChecks.push(check);
  }

  async check(): Promise<ReadinessReport> {
    try {
      const result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: 1_500 }),
        () => this.redis.pingCheck('redis'),
        ...this.extraChecks,
      ]);
      return { healthy: true, result };
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        return { healthy: false, result: error.getResponse() as HealthCheckResult };
      }
      throw error;
    }
  }
}

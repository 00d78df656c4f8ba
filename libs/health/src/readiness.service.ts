import { Inject, Injectable, Optional, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { DependencyMetrics } from '@girder/metrics';
import { RedisHealthIndicator } from './redis.health';

export interface ReadinessReport {
  /** The process can do its job: every required check is up (and it is not shutting down). */
  healthy: boolean;
  result: HealthCheckResult;
}

/** Injection token of the names of the checks a process cannot do its job without. */
export const REQUIRED_CHECKS = Symbol('REQUIRED_CHECKS');

/**
 * The readiness checks shared by the API and the worker: PostgreSQL (`database`) and, when
 * REDIS_URL is set, the shared Redis client (`redis`; without it there is no such check and no
 * `girder_dependency_up{dependency="redis"}`: PostgreSQL-only mode is a mode, not an outage), plus any a feature registers (the task queues add `queues`, their Redis
 * connection). Every check runs and is reported in the terminus shape (`info`, `error`,
 * `details`), but only the app's required ones (`REQUIRED_CHECKS`: the API needs `database`;
 * the worker `database` and `queues`) make it unready: a dependency the app works around
 * (Redis on the API) shows as `down` in `error` and `details` while `status` stays `ok` and
 * the answer 200. Each check also sets `girder_dependency_up{dependency}`, refreshed at every
 * scrape.
 */
@Injectable()
export class ReadinessService {
  private readonly extraChecks: HealthIndicatorFunction[] = [];
  private readonly baseChecks: HealthIndicatorFunction[];
  private running?: Promise<ReadinessReport>;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    @Inject(REQUIRED_CHECKS) private readonly required: readonly string[],
    @Optional() private readonly metrics?: DependencyMetrics,
  ) {
    this.baseChecks = [() => this.database.pingCheck('database', { timeout: 1_500 })];
    if (redis.configured) this.baseChecks.push(() => this.redis.pingCheck('redis'));
    metrics?.refreshOnScrape(() => this.check());
  }

  register(check: HealthIndicatorFunction): void {
    this.extraChecks.push(check);
  }

  /** Runs every check (concurrent callers share one run). */
  check(): Promise<ReadinessReport> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<ReadinessReport> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([...this.baseChecks, ...this.extraChecks]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    for (const [dependency, { status }] of Object.entries(result.details)) {
      this.metrics?.setUp(dependency, status === 'up');
    }
    if (result.status === 'shutting_down') return { healthy: false, result };
    const healthy = this.required.every((name) => result.details[name]?.status !== 'down');
    return { healthy, result: { ...result, status: healthy ? 'ok' : 'error' } };
  }
}

export { HealthModule } from './health.module';
export { ReadinessService, type ReadinessReport } from './readiness.service';
export { RedisHealthIndicator, type Pingable } from './redis.health';
export { WorkerHealthServer } from './worker-health.server';

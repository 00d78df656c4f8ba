export { HealthModule } from './health.module';
export { ReadinessService, type ReadinessReport } from './readiness.service';
export { RedisHealthIndicator } from './redis.health';
export { WorkerHealthServer } from './worker-health.server';

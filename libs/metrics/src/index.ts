export { DependencyMetrics } from './dependency-metrics';
export { HttpMetricsMiddleware } from './http-metrics.middleware';
export { MetricsModule } from './metrics.module';
export { MetricsRegistry } from './metrics-registry';
export {
  HasMetricsToken,
  METRICS_TOKEN_REQUIRED,
  hasMetricsToken,
  metricsTokenChallenge,
} from './metrics-token';

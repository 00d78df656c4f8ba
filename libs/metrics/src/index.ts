export { HttpMetricsMiddleware } from './http-metrics.middleware';
export { MetricsModule } from './metrics.module';
export { MetricsRegistry } from './metrics-registry';

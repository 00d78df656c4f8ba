import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { DependencyMetrics } from './dependency-metrics';
import { HttpMetricsMiddleware, HttpRequestDurations } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { HasMetricsToken } from './metrics-token';

const registryFor = (service: string) => ({
  provide: MetricsRegistry,
  useFactory: () => new MetricsRegistry(service),
});

/** Times every HTTP request (API only: the worker has no HTTP pipeline). */
@Module({ providers: [HttpRequestDurations] })
class HttpMetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}

/** A Prometheus registry per app, with process metrics; features add theirs to it. */
@Module({})
export class MetricsModule {
  /** `GET /metrics` and the request-duration histogram. */
  static forApi(): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      imports: [HttpMetricsModule],
      controllers: [MetricsController],
      providers: [registryFor('api'), DependencyMetrics, HasMetricsToken],
      exports: [MetricsRegistry, DependencyMetrics],
    };
  }

  /** The registry only; the worker's health listener serves it at `/metrics`. */
  static forWorker(): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      providers: [registryFor('worker'), DependencyMetrics],
      exports: [MetricsRegistry, DependencyMetrics],
    };
  }
}

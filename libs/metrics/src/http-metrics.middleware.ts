import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/** Seconds; dense below 100 ms where an API should live. */
const BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The request-duration histogram, one per app (middleware instances may be several). */
@Injectable()
export class HttpRequestDurations extends Histogram<'method' | 'route' | 'status_code'> {
  constructor(registry: MetricsRegistry) {
    super({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }
}

/**
 * Times every request into `http_request_duration_seconds{method,route,status_code}`. The
 * route label is the route template (`/api/v1/users/:id`), never the raw URL, so ids and
 * query strings cannot explode the number of series; unknown URLs share `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly duration: HttpRequestDurations) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.duration.observe(
        {
          method: request.method,
          route: routeTemplate(request, response),
          status_code: String(response.statusCode),
        },
        seconds,
      );
    });
    next();
  }
}

function routeTemplate(request: Request, response: Response): string {
  const { route } = request as unknown as { route?: { path?: unknown } };
  const path = route?.path;
  if (typeof path !== 'string') return 'unmatched';
  const template = `${request.baseUrl}${path}`;
  // Nest answers unknown URLs from a catch-all route (`/api/*path`): not a route of ours.
  return response.statusCode === 404 && template.includes('*') ? 'unmatched' : template;
}

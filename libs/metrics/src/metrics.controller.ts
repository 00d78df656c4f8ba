import { Controller, Get, Header, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { MarkNotRateLimited } from '@girder/http';
import { Permissions } from '@girder/permissions';
import { Registry } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';
import { HasMetricsToken } from './metrics-token';

/**
 * Prometheus scrape endpoint. With METRICS_TOKEN set it answers only that bearer token (401
 * otherwise); unset, it is public like the health probes: then keep it off the internet at the
 * proxy or network level (docs/operations.md).
 */
@ApiTags('operations')
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
// `@SkipRateLimit()` spelled out: @girder/rate-limit reports to this library's metrics, so
// this library does not import it back.
@SkipThrottle()
@MarkNotRateLimited()
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get()
  @Permissions(HasMetricsToken)
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'HTTP durations by route template and status, queue depths and process metrics. With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` is let in (else 401).',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    schema: {
      type: 'string',
      example:
        'http_request_duration_seconds_count{method="GET",route="/health/live",status_code="200"} 3',
    },
  })
  async getMetrics(): Promise<string> {
    return this.registry.metrics();
  }
}

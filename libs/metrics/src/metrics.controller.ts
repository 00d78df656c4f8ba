import { Controller, Get, Header, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
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
@SkipThrottle()
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get()
  @Permissions(HasMetricsToken)
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'HTTP durations by route and status, queue depths, process' })
  async scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

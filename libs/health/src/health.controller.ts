import { Controller, Get, HttpStatus, Res, VERSION_NEUTRAL } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import { AllowAll, Permissions } from '@girder/permissions';
import { SkipRateLimit } from '@girder/rate-limit';
import type { Response } from 'express';
import { LivenessReport, ReadinessReport } from './health-report.schema';
import { ReadinessService } from './readiness.service';

@ApiTags('health')
@Permissions(AllowAll)
@Controller({ path: 'health', version: VERSION_NEUTRAL })
// Probes must never be rate limited (a load balancer would take a healthy instance out).
@SkipRateLimit()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @ApiOperation({
    summary: 'Liveness: 200 while the process serves requests',
    description: 'No dependency is checked: a failing liveness probe means restart the process.',
  })
  @ApiOkResponse({ type: LivenessReport, description: 'The process serves requests' })
  getLiveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: 200 when the process can do its job, else 503',
    description:
      'Checks PostgreSQL, Redis and the queues’ connection. Only PostgreSQL being unreachable makes the API unready (503); Redis down is a degraded state (cache bypassed, rate limits counted per process): 200, with Redis listed as `down` in `error` and `details`. Both answers have the @nestjs/terminus shape, not problem+json: load balancers and probes expect it.',
  })
  @ApiOkResponse({
    type: ReadinessReport,
    description: 'Ready; a degraded dependency is listed as down in `error` and `details`',
  })
  @ApiServiceUnavailableResponse({
    type: ReadinessReport,
    description: 'PostgreSQL is unreachable',
  })
  async getReadiness(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    const report = await this.readiness.check();
    // The terminus shape, not problem+json: load balancers and probes expect it.
    if (!report.healthy) response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return report.result;
  }
}

import { Controller, Get, HttpStatus, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { AllowAll, Permissions } from '@girder/permissions';
import type { Response } from 'express';
import { ReadinessService } from './readiness.service';

@ApiTags('health')
@Permissions(AllowAll)
@Controller({ path: 'health', version: VERSION_NEUTRAL })
// Probes must never be rate limited (a load balancer would take a healthy instance out).
@SkipThrottle()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves requests' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when PostgreSQL and Redis answer, else 503' })
  @ApiResponse({ status: 503, description: 'A dependency is down (terminus shape)' })
  async ready(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    const report = await this.readiness.check();
    // The terminus shape, not problem+json: load balancers and probes expect it.
    if (!report.healthy) response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return report.result;
  }
}

import { applyDecorators } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { MarkNotRateLimited } from '@girder/http';

/**
 * Takes a route (or every route of a controller) out of the global rate limit, and out of the
 * 429 / RateLimit-* documentation. For probes and scrapes, which must never be limited.
 */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SkipThrottle(), MarkNotRateLimited());

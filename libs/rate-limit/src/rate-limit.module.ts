import { Global, Module, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AppConfig } from '@girder/config';
import type { Request } from 'express';
import { LOGIN_RATE_LIMIT_KEY } from './login-rate-limit.decorator';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStorage } from './rate-limit-storage';

const MINUTE_MS = 60_000;

@Module({ providers: [RateLimitStorage], exports: [RateLimitStorage] })
class RateLimitStorageModule {}

const clientIp = (request: Record<string, unknown>): string =>
  (request as unknown as Request).ip ?? 'unknown';

function loginEmail(request: Record<string, unknown>): string {
  const email: unknown = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}

const isLoginLimited = (context: ExecutionContext): boolean =>
  Reflect.getMetadata(LOGIN_RATE_LIMIT_KEY, context.getHandler()) === true;

/**
 * Rate limits for the API, counted in Redis so every API process shares them:
 * - `default`: RATE_LIMIT_PER_MINUTE per client IP, across all routes;
 * - `login`: LOGIN_RATE_LIMIT_PER_MINUTE per client IP and email, on `@LoginRateLimit()` routes.
 * The client IP honours `X-Forwarded-For` only with TRUST_PROXY=true. Health and metrics
 * routes opt out with `@SkipThrottle()`.
 */
@Global()
@Module({
  imports: [
    RateLimitStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [AppConfig, RateLimitStorage],
      useFactory: (config: AppConfig, storage: RateLimitStorage): ThrottlerModuleOptions => ({
        storage,
        throttlers: [
          {
            name: 'default',
            ttl: MINUTE_MS,
            limit: config.get('RATE_LIMIT_PER_MINUTE'),
            getTracker: (request) => clientIp(request),
            generateKey: (_context, tracker) => `ip:${tracker}`,
          },
          {
            name: 'login',
            ttl: MINUTE_MS,
            limit: config.get('LOGIN_RATE_LIMIT_PER_MINUTE'),
            skipIf: (context) => !isLoginLimited(context),
            getTracker: (request) => `${clientIp(request)}|${loginEmail(request)}`,
            generateKey: (_context, tracker) => `login:${tracker}`,
          },
        ],
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
  // The counters, for middleware outside the guard chain (e.g. the queue dashboard's sign-in).
  exports: [RateLimitStorageModule],
})
export class RateLimitModule {}

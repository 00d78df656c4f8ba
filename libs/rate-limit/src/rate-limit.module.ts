import { Global, Module, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AppConfig } from '@girder/config';
import type { Request } from 'express';
import { LOGIN_LIMIT_NAME, LoginAttemptLimiter, loginLimitKey } from './login-attempt-limiter';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitStorage } from './rate-limit-storage';
import { rateLimitStorageProvider } from './rate-limit-storage.provider';
import { ROUTE_RATE_LIMIT_KEY, type RouteRateLimitName } from './route-rate-limit.decorator';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

@Module({ providers: [rateLimitStorageProvider], exports: [RateLimitStorage] })
class RateLimitStorageModule {}

const clientIp = (request: Record<string, unknown>): string =>
  (request as unknown as Request).ip ?? 'unknown';

function bodyEmail(request: Record<string, unknown>): string {
  const email: unknown = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}

const routeLimit = (context: ExecutionContext): RouteRateLimitName | undefined =>
  Reflect.getMetadata(ROUTE_RATE_LIMIT_KEY, context.getHandler()) as RouteRateLimitName | undefined;

/**
 * Rate limits for the API, counted in Redis so every API process shares them (in each
 * process's memory while Redis is unreachable), or, without REDIS_URL, in each process's
 * memory only (N API processes: up to N times each limit). `RateLimitStorage`, chosen once:
 * - `default`: RATE_LIMIT_PER_MINUTE per client IP, across all routes;
 * - `login`: LOGIN_RATE_LIMIT_PER_MINUTE per client IP and email, on `@LoginRateLimit()` routes
 *   (`LoginAttemptLimiter` counts other password checks against the same counters);
 * - `register`: REGISTER_RATE_LIMIT_PER_MINUTE per client IP, on `@RegisterRateLimit()` routes;
 * - `account-mail` / `account-mail-recipient`: ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE per client IP
 *   and ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR per body email, on `@AccountMailRateLimit()` routes.
 * The client IP is Express's `req.ip` (see TRUST_PROXY). Health and metrics
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
            name: LOGIN_LIMIT_NAME,
            ttl: MINUTE_MS,
            limit: config.get('LOGIN_RATE_LIMIT_PER_MINUTE'),
            skipIf: (context) => routeLimit(context) !== 'login',
            getTracker: (request) => loginLimitKey(clientIp(request), bodyEmail(request)),
            generateKey: (_context, tracker) => tracker,
          },
          {
            name: 'register',
            ttl: MINUTE_MS,
            limit: config.get('REGISTER_RATE_LIMIT_PER_MINUTE'),
            skipIf: (context) => routeLimit(context) !== 'register',
            getTracker: (request) => clientIp(request),
            generateKey: (_context, tracker) => `register:${tracker}`,
          },
          {
            name: 'account-mail',
            ttl: MINUTE_MS,
            limit: config.get('ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE'),
            skipIf: (context) => routeLimit(context) !== 'account-mail',
            getTracker: (request) => clientIp(request),
            generateKey: (_context, tracker) => `account-mail:${tracker}`,
          },
          {
            name: 'account-mail-recipient',
            ttl: HOUR_MS,
            limit: config.get('ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR'),
            skipIf: (context) =>
              routeLimit(context) !== 'account-mail' ||
              bodyEmail(context.switchToHttp().getRequest<Record<string, unknown>>()) === '',
            getTracker: (request) => bodyEmail(request),
            generateKey: (_context, tracker) => `account-mail-to:${tracker}`,
          },
        ],
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }, LoginAttemptLimiter],
  exports: [LoginAttemptLimiter],
})
export class RateLimitModule {}

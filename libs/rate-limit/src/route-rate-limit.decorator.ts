import { SetMetadata } from '@nestjs/common';

export const ROUTE_RATE_LIMIT_KEY = 'girder:route-rate-limit';

/** The extra limits a route can add on top of the global per-IP one. */
export type RouteRateLimitName = 'login' | 'register' | 'account-mail';

/**
 * Adds the login limit (LOGIN_RATE_LIMIT_PER_MINUTE per client IP and body `email`) to a route
 * that checks an email and password. The same counters serve `LoginAttemptLimiter`.
 */
export const LoginRateLimit = (): MethodDecorator =>
  SetMetadata<string, RouteRateLimitName>(ROUTE_RATE_LIMIT_KEY, 'login');

/** Adds the sign-up limit (REGISTER_RATE_LIMIT_PER_MINUTE per client IP) to a route. */
export const RegisterRateLimit = (): MethodDecorator =>
  SetMetadata<string, RouteRateLimitName>(ROUTE_RATE_LIMIT_KEY, 'register');

/**
 * Adds the account-mail limits to a route that sends a mail: ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE
 * per client IP, and ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR per body `email` when the body has one.
 */
export const AccountMailRateLimit = (): MethodDecorator =>
  SetMetadata<string, RouteRateLimitName>(ROUTE_RATE_LIMIT_KEY, 'account-mail');

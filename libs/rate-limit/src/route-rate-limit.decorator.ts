import { SetMetadata } from '@nestjs/common';

export const LOGIN_RATE_LIMIT_KEY = 'girder:login-rate-limit';

/**
 * Adds the login limit (LOGIN_RATE_LIMIT_PER_MINUTE per client IP and body `email`) to a route,
 * on top of the global per-IP limit. For routes that check a password.
 */
export const LoginRateLimit = (): MethodDecorator => SetMetadata(LOGIN_RATE_LIMIT_KEY, true);

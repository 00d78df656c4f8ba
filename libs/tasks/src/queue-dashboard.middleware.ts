import { Injectable, NestMiddleware } from '@nestjs/common';
import { ProblemException } from '@girder/errors';
import { Authenticator, IsAdmin, PermissionChecker, type CurrentUser } from '@girder/permissions';
import { LoginAttemptLimiter } from '@girder/rate-limit';
import type { NextFunction, Request, Response } from 'express';
import { createHash } from 'node:crypto';

/**
 * A verified Basic credential is trusted this long, so the page's assets and polls skip
 * argon2; a password change or deactivation takes effect on the dashboard within it.
 */
const BASIC_CACHE_MS = 15_000;

/**
 * bull-board is plain Express, outside the guards: this middleware lets only admins in. API
 * clients send their bearer token; a browser gets a Basic-auth prompt and signs in with an
 * admin's email and password (rate limited like POST /auth/login).
 */
@Injectable()
export class QueueDashboardAuthMiddleware implements NestMiddleware {
  private readonly verified = new Map<string, { user: CurrentUser; until: number }>();

  constructor(
    private readonly authenticator: Authenticator,
    private readonly loginAttempts: LoginAttemptLimiter,
    private readonly permissions: PermissionChecker,
  ) {}

  async use(request: Request, _response: Response, next: NextFunction): Promise<void> {
    const header = request.headers.authorization;
    const user = header?.startsWith('Basic ')
      ? await this.basic(header, request)
      : await this.authenticator.authenticate(request);
    if (!user) {
      throw new ProblemException(
        'UNAUTHENTICATED',
        'The queue dashboard needs an admin: a bearer token, or an admin email and password.',
        undefined,
        // Makes a browser ask for the email and password.
        { 'WWW-Authenticate': 'Basic realm="Girder queues", charset="UTF-8"' },
      );
    }
    if (!(await this.permissions.allows([IsAdmin], user)))
      throw new ProblemException('FORBIDDEN', 'The queue dashboard is for admins.');
    next();
  }

  private async basic(header: string, request: Request): Promise<CurrentUser | null> {
    const fingerprint = createHash('sha256').update(header).digest('base64url');
    const known = this.verified.get(fingerprint);
    if (known && known.until > Date.now()) return known.user;

    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) return null;
    const email = decoded.slice(0, separator).trim().toLowerCase();
    await this.loginAttempts.hit(request.ip, email);
    const user = await this.authenticator.verifyPassword(email, decoded.slice(separator + 1));
    if (!user) return null;
    for (const [key, entry] of this.verified)
      if (entry.until <= Date.now()) this.verified.delete(key);
    this.verified.set(fingerprint, { user, until: Date.now() + BASIC_CACHE_MS });
    return user;
  }
}

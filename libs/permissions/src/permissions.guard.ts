import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException } from '@girder/errors';
import { PinoLogger } from 'nestjs-pino';
import { Authenticator } from './authenticator';
import type { CurrentUser, RequestWithUser } from './current-user';
import type { PermissionClass, PermissionRequest } from './permission';
import { PermissionChecker } from './permission-checker';
import { PERMISSIONS_KEY } from './permissions.decorator';

/**
 * The global guard. Deny by default: a route without `@Permissions` is refused (and the
 * route-walking test fails). Otherwise the caller is authenticated when they sent
 * credentials, then every declared permission class must allow the call.
 *
 * An invalid token is only an error where it matters: on a route every class allows anyway
 * (AllowAll), a stale token does not block the request.
 */
@Injectable()
export class PermissionsGuard implements CanActivate {
  private readonly logger = new Logger('Permissions');

  constructor(
    private readonly reflector: Reflector,
    private readonly checker: PermissionChecker,
    private readonly authenticator: Authenticator,
    private readonly requestLogger: PinoLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const classes = this.reflector.getAllAndOverride<PermissionClass[] | undefined>(
      PERMISSIONS_KEY,
      [context.getHandler(), context.getClass()],
    );
    if (!classes || classes.length === 0) {
      this.logger.error(
        `${context.getClass().name}.${context.getHandler().name} declares no @Permissions: refused`,
      );
      throw new ProblemException('FORBIDDEN', 'This route declares no permissions and is closed.');
    }

    const request = context.switchToHttp().getRequest<RequestWithUser & PermissionRequest>();
    let user: CurrentUser | null = null;
    let authenticationError: Error | undefined;
    try {
      user = await this.authenticator.authenticate(request);
    } catch (error) {
      authenticationError = error instanceof Error ? error : new Error(String(error));
    }
    request.user = user;
    // Probes skip the request logger (LoggingModule): no request log to tag (`req.log`), and
    // PinoLogger.assign would throw outside one.
    if (user && 'log' in request) this.requestLogger.assign({ userId: user.id });

    for (const permissionClass of classes) {
      if (await this.checker.allows([permissionClass], user, request)) continue;
      if (authenticationError) throw authenticationError;
      if (!user) throw new ProblemException('UNAUTHENTICATED', 'A valid access token is required.');
      throw new ProblemException('FORBIDDEN', 'You are not allowed to do this.');
    }
    return true;
  }
}

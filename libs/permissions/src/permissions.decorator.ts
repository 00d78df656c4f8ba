import { SetMetadata, applyDecorators } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { PermissionClass } from './permission';

export const PERMISSIONS_KEY = 'girder:permissions';
export const BEARER_AUTH = 'bearer';

/** The OpenAPI documentation matching a declaration: bearer security, 401 and 403 where they can happen. */
function openApiFor(classes: PermissionClass[]): MethodDecorator {
  const answers = classes.map(
    (permission) => permission.answers ?? { unauthorized: true, forbidden: true },
  );
  const decorators: MethodDecorator[] = [];
  if (answers.some((answer) => answer.unauthorized)) {
    decorators.push(
      ApiBearerAuth(BEARER_AUTH),
      ApiUnauthorizedResponse({
        description:
          'No, invalid, expired or revoked access token (UNAUTHENTICATED, TOKEN_REVOKED)',
      }),
    );
  }
  if (answers.some((answer) => answer.forbidden))
    decorators.push(
      ApiForbiddenResponse({ description: 'Authenticated, but not allowed (FORBIDDEN)' }),
    );
  return decorators.length > 0 ? applyDecorators(...decorators) : () => undefined;
}

/**
 * Declares who may call a route (on a handler) or every route of a controller (on the class).
 * All listed classes must allow the call. A handler's declaration replaces its controller's.
 * It also writes the OpenAPI security and 401/403 responses per route, so the docs cannot
 * drift from the guard.
 */
export function Permissions(...classes: PermissionClass[]): MethodDecorator & ClassDecorator {
  if (classes.length === 0) throw new Error('@Permissions() needs at least one permission class');
  const metadata = SetMetadata(PERMISSIONS_KEY, classes);
  const documentation = openApiFor(classes);

  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      metadata(target, key!, descriptor);
      documentation(target, key!, descriptor);
      return descriptor;
    }
    // On a controller: method decorators have already run, so document exactly the routes that
    // do not declare their own permissions (Swagger would otherwise merge both declarations).
    metadata(target as never);
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = Object.getOwnPropertyDescriptor(prototype, name);
      const handler = method?.value as object | undefined;
      if (name === 'constructor' || typeof handler !== 'function') continue;
      if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      if (Reflect.getMetadata(PERMISSIONS_KEY, handler) !== undefined) continue;
      documentation(prototype, name, method!);
    }
    return undefined;
  }) as MethodDecorator & ClassDecorator;
}

import type { Type } from '@nestjs/common';
import type { CurrentUser } from './current-user';

/** What a permission class sees of the request: plain data, no framework context. */
export interface PermissionRequest {
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string>;
  query: Record<string, unknown>;
}

/**
 * A permission class answers one question: may this caller do this? Implement it as an
 * `@Injectable()` (it can inject services, e.g. for an ownership check) and list it in
 * `@Permissions(...)` on routes, or ask `PermissionChecker` from code (a task type's
 * permission, the dashboard). `user` is null when the caller sent no valid access token;
 * `request` is absent when the question is asked outside an HTTP request.
 */
export interface Permission {
  hasPermission(user: CurrentUser | null, request?: PermissionRequest): boolean | Promise<boolean>;
}

/**
 * What a permission class can answer besides letting the call through, for the OpenAPI
 * document: 401 (no or a bad token) and/or 403 (a caller it refuses). Declare it as a static
 * `answers` on the class; without one, both are documented.
 */
export interface PermissionAnswers {
  unauthorized: boolean;
  forbidden: boolean;
}

export type PermissionClass = Type<Permission> & { readonly answers?: PermissionAnswers };

import type { ExecutionContext, Type } from '@nestjs/common';
import type { CurrentUser } from './current-user';

/**
 * A permission class answers one question: may this caller run this route? Implement it as an
 * `@Injectable()` (it can inject services, e.g. for an ownership check) and list it in
 * `@Permissions(...)`. `user` is null when the caller sent no valid access token.
 */
export interface Permission {
  hasPermission(context: ExecutionContext, user: CurrentUser | null): boolean | Promise<boolean>;
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

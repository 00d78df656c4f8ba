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

export type PermissionClass = Type<Permission>;

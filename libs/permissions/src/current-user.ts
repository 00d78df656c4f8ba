import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Every role, in one place: the database check constraint, DTOs and tokens use these. */
export const ROLES = { user: 'user', admin: 'admin' } as const;
export type UserRole = (typeof ROLES)[keyof typeof ROLES];
export const USER_ROLES: readonly UserRole[] = Object.values(ROLES);

/** Who is calling: set on `request.user` by the authenticator once the access token checks out. */
export interface CurrentUser {
  id: string;
  role: UserRole;
  sessionId: string;
  /**
   * True when the address was verified when the token was issued. False may be stale (verified
   * since): ask `Authenticator.isEmailVerified`, as `IsVerified` does, before refusing.
   */
  emailVerified: boolean;
}

export type RequestWithUser = { user?: CurrentUser | null };

/** `@CurrentUser() user: CurrentUser` in a handler. Null on public routes called anonymously. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): CurrentUser | null =>
    context.switchToHttp().getRequest<RequestWithUser>().user ?? null,
);

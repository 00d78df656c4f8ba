import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

export type UserRole = 'user' | 'admin';

/** Who is calling: set on `request.user` by the authenticator once the access token checks out. */
export interface CurrentUser {
  id: string;
  role: UserRole;
  sessionId: string;
}

export type RequestWithUser = { user?: CurrentUser | null };

/** `@CurrentUser() user: CurrentUser` in a handler. Null on public routes called anonymously. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): CurrentUser | null =>
    context.switchToHttp().getRequest<RequestWithUser>().user ?? null,
);

import { Injectable, type ExecutionContext } from '@nestjs/common';
import type { CurrentUser } from './current-user';
import type { Permission } from './permission';

/** Anyone, with or without a token. */
@Injectable()
export class AllowAll implements Permission {
  hasPermission(): boolean {
    return true;
  }
}

/** Any caller with a valid, unrevoked access token. */
@Injectable()
export class IsAuthenticated implements Permission {
  hasPermission(_context: ExecutionContext, user: CurrentUser | null): boolean {
    return user !== null;
  }
}

/** Authenticated callers whose role is `admin`. */
@Injectable()
export class IsAdmin implements Permission {
  hasPermission(_context: ExecutionContext, user: CurrentUser | null): boolean {
    return user?.role === 'admin';
  }
}

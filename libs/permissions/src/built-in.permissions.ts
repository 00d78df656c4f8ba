import { Injectable } from '@nestjs/common';
import { ROLES, type CurrentUser } from './current-user';
import type { Permission, PermissionAnswers } from './permission';

/** Anyone, with or without a token. */
@Injectable()
export class AllowAll implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: false, forbidden: false };

  hasPermission(): boolean {
    return true;
  }
}

/** Any caller with a valid, unrevoked access token. */
@Injectable()
export class IsAuthenticated implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: false };

  hasPermission(user: CurrentUser | null): boolean {
    return user !== null;
  }
}

/** Authenticated callers whose role is `admin`. */
@Injectable()
export class IsAdmin implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: true };

  hasPermission(user: CurrentUser | null): boolean {
    return user?.role === ROLES.admin;
  }
}

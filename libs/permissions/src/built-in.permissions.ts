import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { ProblemException } from '@girder/errors';
import { Authenticator } from './authenticator';
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

/**
 * Any caller with a valid, unrevoked access token, verified email or not: for the routes an
 * unverified user needs (resend the verification mail, see and end sessions, sign out, read
 * their own profile) when REQUIRE_EMAIL_VERIFICATION is on. Otherwise the same as
 * `IsAuthenticated`.
 */
@Injectable()
export class IsSignedIn implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: false };

  hasPermission(user: CurrentUser | null): boolean {
    return user !== null;
  }
}

/** Signed-in callers whose email address is verified; others get 403 `EMAIL_NOT_VERIFIED`. */
@Injectable()
export class IsVerified implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: true };

  constructor(private readonly authenticator: Authenticator) {}

  async hasPermission(user: CurrentUser | null): Promise<boolean> {
    if (user === null) return false;
    // The token's claim is trusted only when true: a verification since it was issued counts at once.
    if (user.emailVerified || (await this.authenticator.isEmailVerified(user))) return true;
    throw new ProblemException(
      'EMAIL_NOT_VERIFIED',
      'Verify your email address first: follow the link we sent, or ask for a new one at POST /api/v1/auth/verify-email/resend.',
    );
  }
}

/**
 * Any caller with a valid, unrevoked access token; with REQUIRE_EMAIL_VERIFICATION=true, also a
 * verified email (as `IsVerified`).
 */
@Injectable()
export class IsAuthenticated implements Permission {
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: true };
  private readonly requireVerifiedEmail: boolean;

  constructor(
    private readonly verified: IsVerified,
    config: AppConfig,
  ) {
    this.requireVerifiedEmail = config.get('REQUIRE_EMAIL_VERIFICATION');
  }

  hasPermission(user: CurrentUser | null): boolean | Promise<boolean> {
    if (user === null) return false;
    return this.requireVerifiedEmail ? this.verified.hasPermission(user) : true;
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

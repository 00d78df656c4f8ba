import type { CurrentUser } from './current-user';

/** What authentication reads of a request: its headers (an Express or Node request fits). */
export interface AuthenticationRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Turns a request's credentials into a `CurrentUser`. The auth library provides the
 * implementation (JWT + revocation check); this library only knows the contract.
 * Returns null when the request carries no credentials; throws a ProblemException
 * (UNAUTHENTICATED, TOKEN_REVOKED) when it carries bad ones.
 */
export abstract class Authenticator {
  abstract authenticate(request: AuthenticationRequest): Promise<CurrentUser | null>;

  /**
   * Checks an email and password (for sign-ins outside the API's token flow, such as the queue
   * dashboard's browser prompt). Null for wrong or unknown credentials and inactive users.
   * The caller limits attempts (LoginAttemptLimiter).
   */
  abstract verifyPassword(email: string, password: string): Promise<CurrentUser | null>;

  /** Whether the caller's email is verified now (not only when their token was issued). */
  abstract isEmailVerified(user: CurrentUser): Promise<boolean>;
}

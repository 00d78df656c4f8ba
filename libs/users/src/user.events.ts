/** Domain events of the users library, published after the transaction that caused them commits. */
export const USER_REGISTERED = 'users.registered';
export const USER_ACCESS_REVOKED = 'users.access-revoked';

export class UserRegistered {
  constructor(
    readonly userId: string,
    readonly email: string,
    readonly name: string,
  ) {}
}

/**
 * The user was deactivated, deleted, lost the admin role or got a new password: their sessions
 * must stop working now, all of them or all but `keepSession` (the one that changed its own
 * password).
 */
export class UserAccessRevoked {
  constructor(
    readonly userId: string,
    readonly reason: 'deactivated' | 'deleted' | 'demoted' | 'password-changed',
    readonly keepSession?: string,
  ) {}
}

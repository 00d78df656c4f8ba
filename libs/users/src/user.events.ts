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

/** The user was deactivated, deleted or lost the admin role: every session must stop working now. */
export class UserAccessRevoked {
  constructor(
    readonly userId: string,
    readonly reason: 'deactivated' | 'deleted' | 'demoted',
  ) {}
}

import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { USER_ACCESS_REVOKED, UserAccessRevoked } from '@girder/users';
import { AuthService } from './auth.service';

/**
 * Deactivated, deleted and demoted users are locked out at once, and a new password ends every
 * other session: their sessions are revoked in the transaction that caused it.
 */
@Injectable()
export class UserAccessListener {
  constructor(private readonly auth: AuthService) {}

  // Errors propagate to the emitter, so a failed revocation fails the deactivation (fail closed).
  @OnEvent(USER_ACCESS_REVOKED, { suppressErrors: false })
  async onAccessRevoked(event: UserAccessRevoked): Promise<void> {
    await this.auth.revokeAllSessionsOf(event.userId, event.keepSession);
  }
}

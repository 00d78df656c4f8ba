import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { USER_ACCESS_REVOKED, UserAccessRevoked } from '@girder/users';
import { AuthService } from './auth.service';

/** Deactivated and deleted users are locked out at once: all their sessions are revoked. */
@Injectable()
export class UserAccessListener {
  constructor(private readonly auth: AuthService) {}

  // Errors propagate to the emitter, so a failed revocation fails the deactivation (fail closed).
  @OnEvent(USER_ACCESS_REVOKED, { suppressErrors: false })
  async onAccessRevoked(event: UserAccessRevoked): Promise<void> {
    await this.auth.revokeAllSessionsOf(event.userId);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TasksService } from '@girder/tasks';
import { USER_REGISTERED, UserRegistered } from '@girder/users';
import { VERIFY_EMAIL_MAIL_TASK } from './verify-email-mail.task';

/**
 * A new account (a sign-up or an admin's creation) gets a verification mail. UserRegistered
 * is published after the creating transaction commits, so a rolled-back one sends nothing.
 */
@Injectable()
export class VerificationMailListener {
  private readonly logger = new Logger('VerificationMailListener');

  constructor(private readonly tasks: TasksService) {}

  @OnEvent(USER_REGISTERED)
  async onUserRegistered(event: UserRegistered): Promise<void> {
    try {
      await this.tasks.submitAsSystem(VERIFY_EMAIL_MAIL_TASK, { userId: event.userId });
    } catch (error) {
      // The account exists either way; the user can ask for another mail (verify-email/resend).
      this.logger.error(
        { err: error },
        `could not queue the verification mail for ${event.userId}`,
      );
    }
  }
}

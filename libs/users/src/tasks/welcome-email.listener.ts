import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TasksService } from '@girder/tasks';
import { USER_REGISTERED, UserRegistered } from '../user.events';

/**
 * UserRegistered is published after the registering transaction commits, so a rolled-back
 * registration never queues a welcome mail.
 */
@Injectable()
export class WelcomeEmailListener {
  private readonly logger = new Logger('WelcomeEmailListener');

  constructor(private readonly tasks: TasksService) {}

  @OnEvent(USER_REGISTERED)
  async onUserRegistered(event: UserRegistered): Promise<void> {
    try {
      await this.tasks.submitAsSystem('email.welcome', {
        userId: event.userId,
        email: event.email,
        name: event.name,
      });
    } catch (error) {
      // The user exists either way; a lost welcome mail must not turn the registration into an error.
      this.logger.error({ err: error }, `could not queue the welcome mail for ${event.userId}`);
    }
  }
}

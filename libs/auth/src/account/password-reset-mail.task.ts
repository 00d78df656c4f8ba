import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';
import { EmailField, UsersService } from '@girder/users';
import { AccountLinks } from './account-links';
import { AccountMailSender, type AccountMailResult } from './account-mail-sender';
import { passwordResetMail } from './mails/password-reset.mail';

export const PASSWORD_RESET_MAIL_TASK = 'account.password-reset-mail';

export class PasswordResetMailPayload {
  @EmailField()
  email!: string;
}

/**
 * Sends a reset link when the address belongs to an active user, and nothing otherwise: the
 * API queues this task for every request alike, so its answer and timing tell nobody whether
 * the address has an account.
 */
@Injectable()
@TaskType({
  name: PASSWORD_RESET_MAIL_TASK,
  queue: 'email',
  payload: PasswordResetMailPayload,
  permission: null,
  attempts: 5,
  backoffMs: 5_000,
})
export class PasswordResetMailTask extends TaskHandler<
  PasswordResetMailPayload,
  AccountMailResult
> {
  private readonly ttlMinutes: number;

  constructor(
    private readonly users: UsersService,
    private readonly links: AccountLinks,
    private readonly sender: AccountMailSender,
    config: AppConfig,
  ) {
    super();
    this.ttlMinutes = config.get('PASSWORD_RESET_TTL_MINUTES');
  }

  async run(payload: PasswordResetMailPayload, context: TaskContext): Promise<AccountMailResult> {
    const user = await this.users.findByEmail(payload.email);
    if (!user?.isActive) return { skipped: 'no active account has this address' };
    return this.sender.send(
      user,
      'reset-password',
      this.ttlMinutes * 60_000,
      (token) =>
        passwordResetMail({
          to: user.email,
          name: user.name,
          link: this.links.resetPassword(token),
          validForMinutes: this.ttlMinutes,
        }),
      `password-reset-${context.taskId}`,
    );
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';
import { UsersService } from '@girder/users';
import { IsUUID } from 'class-validator';
import { AccountLinks } from './account-links';
import { AccountMailSender, type AccountMailResult } from './account-mail-sender';
import { verifyEmailMail } from './mails/verify-email.mail';

export const VERIFY_EMAIL_MAIL_TASK = 'account.verify-email-mail';

export class VerifyEmailMailPayload {
  @IsUUID()
  userId!: string;
}

/** Sends a verification link to the user's current address, unless it is verified by then. */
@Injectable()
@TaskType({
  name: VERIFY_EMAIL_MAIL_TASK,
  queue: 'email',
  payload: VerifyEmailMailPayload,
  permission: null,
  attempts: 5,
  backoffMs: 5_000,
})
export class VerifyEmailMailTask extends TaskHandler<VerifyEmailMailPayload, AccountMailResult> {
  private readonly ttlHours: number;

  constructor(
    private readonly users: UsersService,
    private readonly links: AccountLinks,
    private readonly sender: AccountMailSender,
    config: AppConfig,
  ) {
    super();
    this.ttlHours = config.get('EMAIL_VERIFICATION_TTL_HOURS');
  }

  async run(payload: VerifyEmailMailPayload, context: TaskContext): Promise<AccountMailResult> {
    const user = await this.users.findById(payload.userId);
    if (!user) return { skipped: 'the user no longer exists' };
    if (user.emailVerifiedAt !== null) return { skipped: 'the address is already verified' };
    return this.sender.send(
      user,
      'verify-email',
      this.ttlHours * 3_600_000,
      (token) =>
        verifyEmailMail({
          to: user.email,
          name: user.name,
          link: this.links.verifyEmail(token),
          validForHours: this.ttlHours,
        }),
      `verify-email-${context.taskId}`,
    );
  }
}

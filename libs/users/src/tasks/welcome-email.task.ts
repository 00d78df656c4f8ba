import { Injectable } from '@nestjs/common';
import { IsEmail, IsString, IsUUID, Length } from 'class-validator';
import { Mailer, type SentMail } from '@girder/mail';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';

export class WelcomeEmailPayload {
  @IsUUID()
  userId!: string;

  @IsEmail()
  email!: string;

  @IsString()
  @Length(1, 100)
  name!: string;
}

/** Queued after a registration commits (see WelcomeEmailListener); never submittable over HTTP. */
@Injectable()
@TaskType({
  name: 'email.welcome',
  queue: 'email',
  payload: WelcomeEmailPayload,
  permission: null,
  attempts: 5,
  backoffMs: 5_000,
})
export class WelcomeEmailTask extends TaskHandler<WelcomeEmailPayload, SentMail> {
  constructor(private readonly mailer: Mailer) {
    super();
  }

  async run(payload: WelcomeEmailPayload, context: TaskContext): Promise<SentMail> {
    return this.mailer.send(
      {
        to: payload.email,
        subject: 'Welcome to Girder',
        text: `Hello ${payload.name},\n\nyour account ${payload.email} is ready.\n\n— Girder`,
      },
      `welcome-${context.taskId}`,
    );
  }
}

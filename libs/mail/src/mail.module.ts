import { Global, Module } from '@nestjs/common';
import { Mailer } from './mailer';

/** Outgoing mail for every feature: SMTP (SMTP_URL) or the development `.eml` outbox. */
@Global()
@Module({ providers: [Mailer], exports: [Mailer] })
export class MailModule {}

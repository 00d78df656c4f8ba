export { MailModule } from './mail.module';
export { Mailer, type OutgoingMail, type SentMail } from './mailer';

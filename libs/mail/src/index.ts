export { MailModule } from './mail.module';
export { Mailer, type OutgoingMail, type SentMail } from './mailer';
export { escapeHtml, html } from './html';

import { html, type OutgoingMail } from '@girder/mail';

export interface VerifyEmailMailInput {
  to: string;
  name: string;
  link: string;
  validForHours: number;
}

export function verifyEmailMail({
  to,
  name,
  link,
  validForHours,
}: VerifyEmailMailInput): OutgoingMail {
  return {
    to,
    subject: 'Confirm your email address',
    text: [
      `Hello ${name},`,
      '',
      `please confirm that ${to} is your address by opening this link:`,
      '',
      link,
      '',
      `The link works once, for ${validForHours} hours. If you did not create an account, ignore this mail.`,
      '',
      '— Girder',
    ].join('\n'),
    html: html`<p>Hello ${name},</p>
      <p>please confirm that ${to} is your address:</p>
      <p><a href="${link}">Confirm my email address</a></p>
      <p>
        The link works once, for ${validForHours} hours. If you did not create an account, ignore
        this mail.
      </p>
      <p>— Girder</p>`,
  };
}

import { html, type OutgoingMail } from '@girder/mail';

export interface PasswordResetMailInput {
  to: string;
  name: string;
  link: string;
  validForMinutes: number;
}

export function passwordResetMail({
  to,
  name,
  link,
  validForMinutes,
}: PasswordResetMailInput): OutgoingMail {
  return {
    to,
    subject: 'Reset your password',
    text: [
      `Hello ${name},`,
      '',
      'someone (hopefully you) asked to reset the password of your account. Choose a new one here:',
      '',
      link,
      '',
      `The link works once, for ${validForMinutes} minutes, and signs you out everywhere. If you did not ask, ignore this mail: your password stays as it is.`,
      '',
      '— Girder',
    ].join('\n'),
    html: html`<p>Hello ${name},</p>
      <p>someone (hopefully you) asked to reset the password of your account.</p>
      <p><a href="${link}">Choose a new password</a></p>
      <p>
        The link works once, for ${validForMinutes} minutes, and signs you out everywhere. If you
        did not ask, ignore this mail: your password stays as it is.
      </p>
      <p>— Girder</p>`,
  };
}

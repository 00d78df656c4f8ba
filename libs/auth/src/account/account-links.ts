import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';

/**
 * The links account mails carry, into the front end (APP_URL), from the VERIFY_EMAIL_URL and
 * RESET_PASSWORD_URL templates. The front end posts the token back to the API.
 */
@Injectable()
export class AccountLinks {
  private readonly verifyEmailTemplate: string;
  private readonly resetPasswordTemplate: string;

  constructor(config: AppConfig) {
    const appUrl = config.get('APP_URL').replace(/\/+$/, '');
    this.verifyEmailTemplate =
      config.get('VERIFY_EMAIL_URL') ?? `${appUrl}/verify-email?token={token}`;
    this.resetPasswordTemplate =
      config.get('RESET_PASSWORD_URL') ?? `${appUrl}/reset-password?token={token}`;
  }

  verifyEmail(token: string): string {
    return fill(this.verifyEmailTemplate, token);
  }

  resetPassword(token: string): string {
    return fill(this.resetPasswordTemplate, token);
  }
}

// Tokens are base64url: nothing to escape, but encode anyway in case the format changes.
const fill = (template: string, token: string): string =>
  template.replaceAll('{token}', encodeURIComponent(token));

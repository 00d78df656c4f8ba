import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { UuidParamPipe } from '@girder/http';
import { AllowAll, CurrentUser, IsSignedIn, Permissions } from '@girder/permissions';
import { AccountMailRateLimit } from '@girder/rate-limit';
import { UserDto } from '@girder/users';
import { AccountService } from './account.service';
import {
  ForgotPasswordDto,
  LogoutAllDto,
  MailAcceptedDto,
  ResetPasswordDto,
  SessionListDto,
  VerifyEmailDto,
} from './dto/account.dto';

/** The OpenAPI tag of these routes, with its description (listed by the app's document). */
export const ACCOUNT_API_TAG = {
  name: 'account',
  description:
    'Email verification, password reset, and the sessions a user can see and end (under /auth)',
};

const uuid = new UuidParamPipe();
const TOKEN_INVALID = 'TOKEN_INVALID: unknown, expired, already used or for another purpose';

@ApiTags(ACCOUNT_API_TAG.name)
@Controller('auth')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Post('verify-email')
  @HttpCode(200)
  @Permissions(AllowAll)
  @ApiOperation({
    summary: 'Verify an email address with the token from the verification mail',
    description:
      'The token is single use and bound to the address it was sent to. Answers the verified User.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiBadRequestResponse({ description: TOKEN_INVALID })
  verifyEmail(@Body() body: VerifyEmailDto): Promise<UserDto> {
    return this.account.verifyEmail(body.token);
  }

  @Post('verify-email/resend')
  @HttpCode(202)
  @Permissions(IsSignedIn)
  @AccountMailRateLimit()
  @ApiOperation({
    summary: 'Send a new verification mail to the caller',
    description:
      'Queued; nothing is sent when the address is verified by then. Limited per client IP (ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE) and per account (ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR mails).',
  })
  @ApiAcceptedResponse({ type: MailAcceptedDto })
  async resendVerification(@CurrentUser() user: CurrentUser): Promise<MailAcceptedDto> {
    await this.account.resendVerification(user);
    return { message: 'If the address still needs verifying, a mail is on its way.' };
  }

  @Post('password/forgot')
  @HttpCode(202)
  @Permissions(AllowAll)
  @AccountMailRateLimit()
  @ApiOperation({
    summary: 'Ask for a password-reset mail',
    description:
      'Always 202 with the same body, in similar time, whether or not the address has an account. The mail carries a single-use link valid PASSWORD_RESET_TTL_MINUTES (30). Limited per client IP and per email.',
  })
  @ApiAcceptedResponse({ type: MailAcceptedDto })
  async forgotPassword(@Body() body: ForgotPasswordDto): Promise<MailAcceptedDto> {
    await this.account.forgotPassword(body.email);
    return { message: 'If the address belongs to an account, a mail is on its way.' };
  }

  @Post('password/reset')
  @HttpCode(204)
  @Permissions(AllowAll)
  @ApiOperation({
    summary: 'Set a new password with the token from the reset mail',
    description:
      'Ends every session of the account, voids its other reset links and counts the address as verified.',
  })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: TOKEN_INVALID })
  async resetPassword(@Body() body: ResetPasswordDto): Promise<void> {
    await this.account.resetPassword(body.token, body.password);
  }

  @Get('sessions')
  @Permissions(IsSignedIn)
  @ApiOperation({
    summary: "The caller's live sessions, most recently used first",
    description:
      '`lastUsedAt`, `userAgent` and `ip` are those of the last sign-in or refresh; `current` marks the session making the call.',
  })
  @ApiOkResponse({ type: SessionListDto })
  async listSessions(@CurrentUser() user: CurrentUser): Promise<SessionListDto> {
    return { items: await this.account.listSessions(user) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @Permissions(IsSignedIn)
  @ApiOperation({
    summary: 'End one of your sessions',
    description:
      "Its access and refresh tokens are refused at once, on every API process. Another user's session, or one already ended, is 404.",
  })
  @ApiNoContentResponse()
  async endSession(@CurrentUser() user: CurrentUser, @Param('id', uuid) id: string): Promise<void> {
    await this.account.endSession(user, id);
  }

  @Post('logout-all')
  @HttpCode(204)
  @Permissions(IsSignedIn)
  @ApiOperation({
    summary: 'End all your sessions (or all but this one)',
    description: 'With `keepCurrent: true` the session making the call stays signed in.',
  })
  @ApiNoContentResponse()
  async logoutAll(@CurrentUser() user: CurrentUser, @Body() body: LogoutAllDto): Promise<void> {
    await this.account.logoutAll(user, body.keepCurrent ?? false);
  }
}

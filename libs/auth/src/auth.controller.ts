import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { LoginRateLimit, RegisterRateLimit } from '@girder/rate-limit';
import { AllowAll, CurrentUser, IsSignedIn, Permissions } from '@girder/permissions';
import type { Request } from 'express';
import { AuthService, type ClientInfo } from './auth.service';
import { LoginDto, RefreshDto, RegisterDto, SessionDto } from './dto/auth.dto';

function clientOf(request: Request): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

/** The OpenAPI tag of these routes, with its description (listed by the app's document). */
export const AUTH_API_TAG = {
  name: 'auth',
  description: 'Sign-up, sign-in, token refresh (rotating, single use) and sign-out',
};

@ApiTags(AUTH_API_TAG.name)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Permissions(AllowAll)
  @RegisterRateLimit()
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per client IP)' })
  @ApiOperation({
    summary: 'Create an account and start a session',
    description:
      'Creates a user with role `user` and answers its first Session. The email is trimmed and lower-cased; a taken one (also when two sign-ups race) is 409 EMAIL_TAKEN. Limited per client IP (REGISTER_RATE_LIMIT_PER_MINUTE).',
  })
  @ApiCreatedResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  register(@Body() body: RegisterDto, @Req() request: Request): Promise<SessionDto> {
    return this.auth.register(body, clientOf(request));
  }

  @Post('login')
  @HttpCode(200)
  @Permissions(AllowAll)
  @LoginRateLimit()
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per client IP and email)' })
  @ApiOperation({
    summary: 'Start a session; use accessToken with "Authorize"',
    description:
      'A wrong password and an unknown email give the same 401 INVALID_CREDENTIALS, in similar time; so does an inactive account. Limited per client IP and email (LOGIN_RATE_LIMIT_PER_MINUTE).',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  login(@Body() body: LoginDto, @Req() request: Request): Promise<SessionDto> {
    return this.auth.login(body, clientOf(request));
  }

  @Post('refresh')
  @HttpCode(200)
  @Permissions(AllowAll)
  @ApiOperation({
    summary: 'Exchange a refresh token (single use) for a new session',
    description:
      'Refresh tokens rotate: each works once and the answer carries the next one. Presenting an already-used refresh token is a theft signal: 401 TOKEN_REVOKED, and every session of the account is revoked.',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiUnauthorizedResponse({
    description: 'UNAUTHENTICATED or TOKEN_REVOKED (a reused token revokes every session)',
  })
  refresh(@Body() body: RefreshDto, @Req() request: Request): Promise<SessionDto> {
    return this.auth.refresh(body.refreshToken, clientOf(request));
  }

  @Post('logout')
  @HttpCode(204)
  @Permissions(IsSignedIn)
  @ApiOperation({
    summary: 'Revoke the current session (access and refresh token) at once',
    description:
      'Both tokens of the session are refused (401 TOKEN_REVOKED) from now on, on every API process.',
  })
  @ApiNoContentResponse()
  async logout(@CurrentUser() user: CurrentUser): Promise<void> {
    await this.auth.logout(user);
  }
}

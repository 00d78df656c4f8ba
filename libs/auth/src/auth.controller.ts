import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
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
import { AllowAll, CurrentUser, IsAuthenticated, Permissions } from '@girder/permissions';
import type { Request } from 'express';
import { AuthService, type ClientInfo } from './auth.service';
import { LoginDto, RefreshDto, RegisterDto, SessionDto } from './dto/auth.dto';

function clientOf(request: Request): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

@ApiTags('auth')
@Controller('auth')
@ApiBadRequestResponse({ description: 'Invalid body (problem+json)' })
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Permissions(AllowAll)
  @RegisterRateLimit()
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (per client IP)' })
  @ApiOperation({ summary: 'Create an account and start a session' })
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
  @ApiOperation({ summary: 'Start a session; use accessToken with "Authorize"' })
  @ApiOkResponse({ type: SessionDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  login(@Body() body: LoginDto, @Req() request: Request): Promise<SessionDto> {
    return this.auth.login(body, clientOf(request));
  }

  @Post('refresh')
  @HttpCode(200)
  @Permissions(AllowAll)
  @ApiOperation({ summary: 'Exchange a refresh token (single use) for a new session' })
  @ApiOkResponse({ type: SessionDto })
  @ApiUnauthorizedResponse({
    description: 'UNAUTHENTICATED or TOKEN_REVOKED (a reused token revokes every session)',
  })
  refresh(@Body() body: RefreshDto, @Req() request: Request): Promise<SessionDto> {
    return this.auth.refresh(body.refreshToken, clientOf(request));
  }

  @Post('logout')
  @HttpCode(204)
  @Permissions(IsAuthenticated)
  @ApiOperation({ summary: 'Revoke the current session (access and refresh token) at once' })
  @ApiNoContentResponse()
  async logout(@CurrentUser() user: CurrentUser): Promise<void> {
    await this.auth.logout(user);
  }
}

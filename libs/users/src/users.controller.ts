import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { CacheResponse } from '@girder/cache';
import { UuidParamPipe } from '@girder/http';
import { CurrentUser, IsAdmin, IsAuthenticated, Permissions } from '@girder/permissions';
import { LoginAttemptLimiter } from '@girder/rate-limit';
import type { Request } from 'express';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateMeDto } from './dto/update-me.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto, UserPageDto } from './dto/user.dto';
import { userCacheTag } from './user-cache-tag';
import { UsersService } from './users.service';

const uuid = new UuidParamPipe();

@ApiTags('users')
@Controller('users')
@Permissions(IsAdmin)
@ApiBadRequestResponse({ description: 'Invalid body, query or id (problem+json)' })
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly loginAttempts: LoginAttemptLimiter,
  ) {}

  @Get('me')
  @Permissions(IsAuthenticated)
  @CacheResponse({ scope: 'user', tags: ({ user }) => (user ? [userCacheTag(user.id)] : []) })
  @ApiOperation({ summary: 'The caller' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() user: CurrentUser): Promise<UserDto> {
    return this.users.get(user.id);
  }

  @Patch('me')
  @Permissions(IsAuthenticated)
  @ApiOperation({
    summary:
      'Change own name or password (a new password needs currentPassword and ends every other session)',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiTooManyRequestsResponse({
    description: 'RATE_LIMITED: currentPassword attempts count against the login limit',
  })
  async updateMe(
    @CurrentUser() user: CurrentUser,
    @Body() body: UpdateMeDto,
    @Req() request: Request,
  ): Promise<UserDto> {
    // A stolen access token must not become a way to guess the password without limit.
    if (body.currentPassword !== undefined || body.password !== undefined)
      await this.loginAttempts.hit(request.ip, `user:${user.id}`);
    return this.users.updateMe(user.id, body, user.sessionId);
  }

  @Get()
  @ApiOperation({ summary: 'List users, newest first (keyset pagination)' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Query() query: ListUsersQuery): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  create(@Body() body: CreateUserDto): Promise<UserDto> {
    return this.users.create(body);
  }

  @Get(':id')
  @CacheResponse({ scope: 'public', tags: ({ params }) => [userCacheTag(params.id)] })
  @ApiOperation({ summary: 'One user' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  get(@Param('id', uuid) id: string): Promise<UserDto> {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Change name, role, isActive or password (deactivation, demotion and a new password revoke every session at once)',
  })
  @ApiConflictResponse({
    description: 'LAST_ADMIN: the last active admin cannot be demoted or deactivated',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  update(@Param('id', uuid) id: string, @Body() body: UpdateUserDto): Promise<UserDto> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user and revoke their sessions' })
  @ApiConflictResponse({ description: 'LAST_ADMIN: the last active admin cannot be deleted' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user' })
  async delete(@Param('id', uuid) id: string): Promise<void> {
    await this.users.delete(id);
  }
}

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
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CacheResponse } from '@girder/cache';
import { UuidParamPipe } from '@girder/http';
import {
  CurrentUser,
  IsAdmin,
  IsAuthenticated,
  IsSignedIn,
  Permissions,
} from '@girder/permissions';
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

/** The OpenAPI tag of these routes, with its description (listed by the app's document). */
export const USERS_API_TAG = {
  name: 'users',
  description: 'The caller’s own account, and user administration (admins)',
};

@ApiTags(USERS_API_TAG.name)
@Controller('users')
@Permissions(IsAdmin)
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly loginAttempts: LoginAttemptLimiter,
  ) {}

  @Get('me')
  // Unverified users too (REQUIRE_EMAIL_VERIFICATION): a client shows them their status.
  @Permissions(IsSignedIn)
  @CacheResponse({ scope: 'user', tags: ({ user }) => (user ? [userCacheTag(user.id)] : []) })
  @ApiOperation({
    summary: 'The caller',
    description: 'The authenticated user. May come from the response cache (X-Cache); never stale.',
  })
  @ApiOkResponse({ type: UserDto })
  getMe(@CurrentUser() user: CurrentUser): Promise<UserDto> {
    return this.users.get(user.id);
  }

  @Patch('me')
  @Permissions(IsAuthenticated)
  @ApiOperation({
    summary: 'Change own name or password',
    description:
      'A new password needs `currentPassword` (wrong: 400 on that field; every attempt counts against the login limit per user and IP, then 429). It ends every other session of the user at once; the caller’s session stays valid. Role and isActive cannot be changed here.',
  })
  @ApiOkResponse({ type: UserDto })
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
  @ApiOperation({
    summary: 'List users, newest first (keyset pagination)',
    description:
      'A page of users, newest first (ties by id). Pass `nextCursor` as `?cursor=` for the next page; null on the last. `?email=` is an exact match (normalised like stored emails), `?role=` filters by role.',
  })
  @ApiOkResponse({ type: UserPageDto })
  listUsers(@Query() query: ListUsersQuery): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Post()
  @ApiOperation({
    summary: 'Create a user',
    description: 'Admins create users of either role. A taken email is 409 EMAIL_TAKEN.',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  createUser(@Body() body: CreateUserDto): Promise<UserDto> {
    return this.users.create(body);
  }

  @Get(':id')
  @CacheResponse({ scope: 'public', tags: ({ params }) => [userCacheTag(params.id)] })
  @ApiOperation({
    summary: 'One user',
    description:
      'May come from the response cache (X-Cache); every write to the user invalidates it.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  getUser(@Param('id', uuid) id: string): Promise<UserDto> {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change name, role, isActive or password',
    description:
      'Deactivation, demotion and a new password revoke every session of the user at once. The last active admin cannot be demoted or deactivated (409 LAST_ADMIN).',
  })
  @ApiConflictResponse({
    description: 'LAST_ADMIN: the last active admin cannot be demoted or deactivated',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  updateUser(@Param('id', uuid) id: string, @Body() body: UpdateUserDto): Promise<UserDto> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a user and revoke their sessions',
    description:
      'A hard delete; the user’s tokens stop working at once. Not the last active admin (409 LAST_ADMIN).',
  })
  @ApiConflictResponse({ description: 'LAST_ADMIN: the last active admin cannot be deleted' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user' })
  async deleteUser(@Param('id', uuid) id: string): Promise<void> {
    await this.users.delete(id);
  }
}

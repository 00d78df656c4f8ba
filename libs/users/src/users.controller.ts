import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
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
} from '@nestjs/swagger';
import { CacheResponse } from '@girder/cache';
import { CurrentUser, IsAdmin, IsAuthenticated, Permissions } from '@girder/permissions';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateMeDto } from './dto/update-me.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto, UserPageDto } from './dto/user.dto';
import { userCacheTag } from './user-cache-tag';
import { UsersService } from './users.service';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('users')
@Controller('users')
@Permissions(IsAdmin)
@ApiBadRequestResponse({ description: 'Invalid body, query or id (problem+json)' })
export class UsersController {
  constructor(private readonly users: UsersService) {}

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
  @ApiOperation({ summary: 'Change own name or password (a new password needs currentPassword)' })
  @ApiOkResponse({ type: UserDto })
  updateMe(@CurrentUser() user: CurrentUser, @Body() body: UpdateMeDto): Promise<UserDto> {
    return this.users.updateMe(user.id, body);
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
    summary: 'Change name, role or isActive (deactivation revokes every session at once)',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  update(@Param('id', uuid) id: string, @Body() body: UpdateUserDto): Promise<UserDto> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user and revoke their sessions' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user' })
  async delete(@Param('id', uuid) id: string): Promise<void> {
    await this.users.delete(id);
  }
}

export { CreateUserDto, EmailField, NameField, PasswordField, UserDto, UserPageDto } from './dto';
export { normaliseEmail } from './email';
export { CreateUsers1795409287912 } from './migrations/1795409287912-CreateUsers';
export { AddUsersEmailVerifiedAt1795420000000 } from './migrations/1795420000000-AddUsersEmailVerifiedAt';
export { PasswordHasher } from './password-hasher';
export { User } from './user.entity';
export {
  USER_ACCESS_REVOKED,
  USER_REGISTERED,
  UserAccessRevoked,
  UserRegistered,
} from './user.events';
export { SIGNUPS_SCHEDULER_ID } from './tasks/signups-report.task';
export { USERS_API_TAG } from './users.controller';
export { UsersModule } from './users.module';
export { UsersService, type UserIdentity } from './users.service';
export { userCacheTag } from './user-cache-tag';

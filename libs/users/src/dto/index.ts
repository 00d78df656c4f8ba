export { CreateUserDto } from './create-user.dto';
export { ListUsersQuery } from './list-users.query';
export { UpdateMeDto } from './update-me.dto';
export { UpdateUserDto } from './update-user.dto';
export { EmailField, NameField, PasswordField } from './user-fields';
export { UserDto, UserPageDto } from './user.dto';

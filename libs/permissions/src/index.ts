export { Authenticator, type AuthenticationRequest } from './authenticator';
export { AllowAll, IsAdmin, IsAuthenticated, IsSignedIn, IsVerified } from './built-in.permissions';
export {
  CurrentUser,
  ROLES,
  USER_ROLES,
  type RequestWithUser,
  type UserRole,
} from './current-user';
export type {
  Permission,
  PermissionAnswers,
  PermissionClass,
  PermissionRequest,
} from './permission';
export { PermissionChecker } from './permission-checker';
export { BEARER_AUTH, PERMISSIONS_KEY, Permissions } from './permissions.decorator';
export { PermissionsGuard } from './permissions.guard';
export { PermissionsModule } from './permissions.module';

import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Authenticator } from './authenticator';
import { AllowAll, IsAdmin, IsAuthenticated, IsSignedIn, IsVerified } from './built-in.permissions';
import { PermissionChecker } from './permission-checker';
import { PermissionsGuard } from './permissions.guard';

const BUILT_IN = [AllowAll, IsSignedIn, IsVerified, IsAuthenticated, IsAdmin];

@Module({})
export class PermissionsModule {
  /**
   * Installs the deny-by-default guard for every route. `authenticator` comes from the module
   * that knows how credentials work (the auth library), imported through `imports`.
   */
  static forRoot(options: {
    imports: DynamicModule['imports'];
    authenticator: Type<Authenticator>;
  }): DynamicModule {
    return {
      module: PermissionsModule,
      global: true,
      imports: options.imports,
      providers: [
        ...BUILT_IN,
        { provide: Authenticator, useExisting: options.authenticator },
        PermissionChecker,
        { provide: APP_GUARD, useClass: PermissionsGuard },
      ],
      exports: [...BUILT_IN, Authenticator, PermissionChecker],
    };
  }
}

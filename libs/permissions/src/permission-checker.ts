import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CurrentUser } from './current-user';
import type { Permission, PermissionClass, PermissionRequest } from './permission';

/**
 * The one place permission classes are evaluated: by the global guard for `@Permissions`
 * routes, and by code that must decide outside a route declaration (a task type's permission,
 * the tasks API's owner-or-admin rule, the queue dashboard). Classes come from DI: registered
 * providers first, else created with their dependencies.
 */
@Injectable()
export class PermissionChecker {
  private readonly instances = new Map<PermissionClass, Permission>();

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Whether every class allows `user`. */
  async allows(
    classes: readonly PermissionClass[],
    user: CurrentUser | null,
    request?: PermissionRequest,
  ): Promise<boolean> {
    for (const permissionClass of classes) {
      const permission = await this.resolve(permissionClass);
      if (!(await permission.hasPermission(user, request))) return false;
    }
    return true;
  }

  private async resolve(permissionClass: PermissionClass): Promise<Permission> {
    const cached = this.instances.get(permissionClass);
    if (cached) return cached;
    let instance: Permission;
    try {
      instance = this.moduleRef.get(permissionClass, { strict: false });
    } catch {
      instance = await this.moduleRef.create(permissionClass);
    }
    this.instances.set(permissionClass, instance);
    return instance;
  }
}

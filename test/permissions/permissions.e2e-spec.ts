import {
  Controller,
  Get,
  INestApplication,
  Injectable,
  Param,
  RequestMethod,
} from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  AllowAll,
  CurrentUser,
  IsAdmin,
  IsAuthenticated,
  PERMISSIONS_KEY,
  Permissions,
  type Permission,
  type PermissionRequest,
} from '@girder/permissions';
import { UsersModule, UsersService } from '@girder/users';
import { ApiClient, type SessionBody } from '../support/api-client';
import { createApiApp } from '../support/test-app';

/** A custom permission resolved through DI: it injects a service, like an ownership check would. */
@Injectable()
class IsSelfAndActive implements Permission {
  constructor(private readonly users: UsersService) {}

  async hasPermission(user: CurrentUser | null, request?: PermissionRequest): Promise<boolean> {
    const id = request?.params.id;
    if (!user || !id || user.id !== id) return false;
    return (await this.users.findIdentity(id))?.isActive === true;
  }
}

@Controller('e2e-permissions')
@Permissions(IsAdmin)
class PermissionProbeController {
  @Get('admin-only')
  adminOnly(): string {
    return 'admin';
  }

  @Get('public')
  @Permissions(AllowAll)
  open(): string {
    return 'public';
  }

  @Get('self/:id')
  @Permissions(IsAuthenticated, IsSelfAndActive)
  self(@Param('id') id: string): string {
    return id;
  }
}

@Controller('e2e-undeclared')
class UndeclaredController {
  @Get()
  forgotten(): string {
    return 'should never be served';
  }
}

describe('permission classes', () => {
  describe('every route of the real API declares its permissions', () => {
    it('walks all controllers and handlers of ApiModule', async () => {
      const app = await createApiApp();
      try {
        const reflector = app.get(Reflector);
        const scanner = app.get(MetadataScanner);
        const routes: string[] = [];
        const undeclared: string[] = [];
        for (const wrapper of app.get(DiscoveryService).getControllers()) {
          const controller = wrapper.metatype as new (...args: unknown[]) => unknown;
          if (!controller || !wrapper.instance) continue;
          const prototype = Object.getPrototypeOf(wrapper.instance) as Record<
            string,
            (...args: unknown[]) => unknown
          >;
          for (const name of scanner.getAllMethodNames(prototype)) {
            const handler = prototype[name];
            const method = Reflect.getMetadata(METHOD_METADATA, handler) as
              RequestMethod | undefined;
            if (method === undefined || Reflect.getMetadata(PATH_METADATA, handler) === undefined)
              continue;
            const route = `${RequestMethod[method]} ${controller.name}.${name}`;
            routes.push(route);
            const declared = reflector.getAllAndOverride<unknown[]>(PERMISSIONS_KEY, [
              handler,
              controller,
            ]);
            if (!declared || declared.length === 0) undeclared.push(route);
          }
        }
        expect(routes.length).toBeGreaterThanOrEqual(14);
        expect(routes).toEqual(
          expect.arrayContaining([
            'POST AuthController.login',
            'GET UsersController.getMe',
            'GET HealthController.getLiveness',
          ]),
        );
        expect(undeclared).toEqual([]);
      } finally {
        await app.close();
      }
    });
  });

  describe('the guard', () => {
    let app: INestApplication;
    let api: ApiClient;
    let admin: SessionBody;
    let member: SessionBody;

    beforeAll(async () => {
      app = await createApiApp({
        imports: [UsersModule.forApi()],
        controllers: [PermissionProbeController, UndeclaredController],
        providers: [IsSelfAndActive],
      });
      api = new ApiClient(app);
      admin = await api.loginAdmin();
      member = await api.register();
    });
    afterAll(async () => {
      await app.close();
    });

    it('refuses a route that declares no permission (deny by default), even for admins', async () => {
      for (const token of [undefined, member.accessToken, admin.accessToken]) {
        const response = await api.get('/api/v1/e2e-undeclared', token);
        expect(response.status).toBe(403);
        expect(response.body.code).toBe('FORBIDDEN');
      }
    });

    it('a handler declaration replaces the controller one', async () => {
      expect((await api.get('/api/v1/e2e-permissions/public')).status).toBe(200);
      expect((await api.get('/api/v1/e2e-permissions/admin-only')).status).toBe(401);
      expect((await api.get('/api/v1/e2e-permissions/admin-only', member.accessToken)).status).toBe(
        403,
      );
      expect((await api.get('/api/v1/e2e-permissions/admin-only', admin.accessToken)).status).toBe(
        200,
      );
    });

    it('all classes of one declaration must allow; custom classes get their dependencies from DI', async () => {
      const own = await api.get(
        `/api/v1/e2e-permissions/self/${member.user.id}`,
        member.accessToken,
      );
      expect(own.status).toBe(200);
      expect(
        (await api.get(`/api/v1/e2e-permissions/self/${admin.user.id}`, member.accessToken)).status,
      ).toBe(403);
      // IsAuthenticated fails first without a token: 401, not 403.
      expect((await api.get(`/api/v1/e2e-permissions/self/${member.user.id}`)).status).toBe(401);
    });

    it('an invalid token does not block a public route', async () => {
      const response = await api
        .http()
        .get('/api/v1/e2e-permissions/public')
        .set('Authorization', 'Bearer garbage');
      expect(response.status).toBe(200);
    });
  });

  describe('OpenAPI reflects the declarations', () => {
    it('secured operations carry bearer security and 401/403; public ones do not', async () => {
      const app = await createApiApp();
      try {
        const document = (await new ApiClient(app).get('/docs-json')).body;
        const operation = (path: string, method: string) => document.paths[path][method];
        const me = operation('/api/v1/users/me', 'get');
        expect(me.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(me.responses)).toEqual(expect.arrayContaining(['200', '401']));
        expect(Object.keys(me.responses)).not.toContain('403');
        const list = operation('/api/v1/users', 'get');
        expect(Object.keys(list.responses)).toEqual(
          expect.arrayContaining(['200', '400', '401', '403']),
        );
        const login = operation('/api/v1/auth/login', 'post');
        expect(login.security).toEqual([]);
        expect(document.components.schemas.UserDto.properties).not.toHaveProperty('passwordHash');
        for (const [path, methods] of Object.entries(
          document.paths as Record<
            string,
            Record<string, { responses: object; security?: unknown }>
          >,
        )) {
          for (const [method, spec] of Object.entries(methods)) {
            if (Array.isArray(spec.security) && spec.security.length > 0)
              expect({ path, method, has401: '401' in spec.responses }).toEqual({
                path,
                method,
                has401: true,
              });
          }
        }
      } finally {
        await app.close();
      }
    });
  });
});

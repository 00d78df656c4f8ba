import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ERROR_RESPONSES, buildOpenApiDocument, configureRouting } from '@girder/http';
import request from 'supertest';
import { ApiModule } from '../../apps/api/src/api.module';
import { API_HTTP_OPTIONS } from '../../apps/api/src/http-options';
import { createApiApp } from '../support/test-app';

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  enum?: unknown[];
}
interface Response {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  responses: Record<string, Response>;
}
interface Document {
  servers?: unknown[];
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, Response>;
  };
}

/** The operation ids clients are generated from: renaming one is a breaking change. */
const OPERATION_IDS = [
  'cancelTask',
  'createUser',
  'deleteUser',
  'downloadTaskResult',
  'endSession',
  'forgotPassword',
  'getLiveness',
  'getMe',
  'getMetrics',
  'getReadiness',
  'getTask',
  'getUser',
  'listSessions',
  'listTasks',
  'listUsers',
  'login',
  'logout',
  'logoutAll',
  'refresh',
  'register',
  'resendVerification',
  'resetPassword',
  'submitTask',
  'updateMe',
  'updateUser',
  'verifyEmail',
];

describe('the OpenAPI document (/docs-json)', () => {
  let app: INestApplication;
  let doc: Document;
  let operations: Array<{ path: string; method: string; operation: Operation }>;

  beforeAll(async () => {
    app = await createApiApp();
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body as Document;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
  });
  afterAll(() => app.close());

  const where = (path: string, method: string) => `${method.toUpperCase()} ${path}`;

  it('has exactly the contract’s operation ids', () => {
    expect(operations.map(({ operation }) => operation.operationId).sort()).toEqual(OPERATION_IDS);
  });

  it('is what `npm run openapi` writes without a server (preview mode, same options)', async () => {
    const preview = await NestFactory.create<NestExpressApplication>(ApiModule, {
      preview: true,
      logger: false,
      abortOnError: false,
    });
    configureRouting(preview, API_HTTP_OPTIONS.unversionedRoutes);
    const offline = buildOpenApiDocument(preview, API_HTTP_OPTIONS.openApi);
    await preview.close();
    expect(JSON.parse(JSON.stringify(offline))).toEqual(doc);
  });

  it('describes and tags every operation; servers and tags are listed', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const tags = new Set(doc.tags?.map((tag) => tag.name));
    for (const tag of doc.tags ?? []) expect(tag.description).toBeTruthy();
    for (const { path, method, operation } of operations) {
      expect({
        at: where(path, method),
        summary: !!operation.summary,
        description: !!operation.description,
      }).toEqual({
        at: where(path, method),
        summary: true,
        description: true,
      });
      for (const tag of operation.tags ?? []) expect(tags.has(tag)).toBe(true);
    }
  });

  it('types every error response as a problem+json Problem, through the reusable responses', () => {
    const names = new Set(Object.values(ERROR_RESPONSES).map((response) => response.name));
    for (const name of names) {
      const response = doc.components.responses[name];
      expect(response.content?.['application/problem+json']?.schema).toEqual({
        $ref: '#/components/schemas/Problem',
      });
    }
    expect(doc.components.responses.TooManyRequests.headers).toHaveProperty('Retry-After');
    expect(doc.components.responses.ServiceUnavailable.headers).toHaveProperty('Retry-After');
    expect(doc.components.schemas.Problem.properties?.code.allOf).toEqual([
      { $ref: '#/components/schemas/ProblemCode' },
    ]);
    expect(doc.components.schemas.ProblemCode.enum).toEqual(
      expect.arrayContaining(['VALIDATION_FAILED', 'EMAIL_TAKEN', 'LAST_ADMIN', 'RATE_LIMITED']),
    );

    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        // Readiness answers its 503 in the terminus shape that probes expect (documented as such).
        if (operation.operationId === 'getReadiness') continue;
        expect({ at: `${where(path, method)} ${status}`, ref: response.$ref }).toEqual({
          at: `${where(path, method)} ${status}`,
          ref: `#/components/responses/${ERROR_RESPONSES[Number(status)].name}`,
        });
      }
    }
  });

  it('gives every success response a media type and schema, and declares its headers', () => {
    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 300 || status === '204') continue;
        const media = Object.entries(response.content ?? {});
        expect({ at: `${where(path, method)} ${status}`, media: media.length > 0 }).toEqual({
          at: `${where(path, method)} ${status}`,
          media: true,
        });
        for (const [, { schema }] of media) expect(schema).toBeDefined();
        expect(response.headers).toHaveProperty('X-Request-ID');
      }
    }
    const byId = (id: string) =>
      operations.find(({ operation }) => operation.operationId === id)!.operation;
    expect(byId('submitTask').responses['202'].headers).toHaveProperty('Location');
    expect(Object.keys(byId('downloadTaskResult').responses['200'].content!)).toContain('text/csv');
    expect(byId('downloadTaskResult').responses['200'].headers).toHaveProperty(
      'Content-Disposition',
    );
    expect(Object.keys(byId('getMetrics').responses['200'].content!)).toEqual(['text/plain']);
    expect(byId('getReadiness').responses['200'].content!['application/json'].schema).toBeDefined();
    expect(byId('getMe').responses['200'].content!['application/json'].schema).toEqual({
      $ref: '#/components/schemas/UserDto',
    });
    // X-Cache is something the server says, not something clients send.
    expect(byId('getMe').responses['200'].headers).toHaveProperty('X-Cache');
    for (const { operation } of operations)
      expect(operation.parameters?.map((parameter) => parameter.name)).not.toContain('X-Cache');
    expect(byId('login').responses['200'].headers).toHaveProperty('RateLimit-Remaining');
    expect(byId('getLiveness').responses['200'].headers).not.toHaveProperty('RateLimit-Remaining');
  });

  it('documents security truthfully: public operations opt out, secured ones answer 401', () => {
    const publicIds: string[] = [];
    for (const { path, method, operation } of operations) {
      expect(operation.security).toBeDefined();
      if ((operation.security ?? []).length === 0) {
        publicIds.push(operation.operationId);
        continue;
      }
      expect({ at: where(path, method), has401: '401' in operation.responses }).toEqual({
        at: where(path, method),
        has401: true,
      });
    }
    expect(publicIds.sort()).toEqual([
      'forgotPassword',
      'getLiveness',
      'getReadiness',
      'login',
      'refresh',
      'register',
      'resetPassword',
      'verifyEmail',
    ]);
  });

  it('uses precise scalars: integers, uuids, emails, and the task types as a discriminated union', () => {
    const schemas = doc.components.schemas;
    expect(schemas.SessionDto.properties?.expiresIn.type).toBe('integer');
    expect(schemas.TaskBase.properties?.attempts.type).toBe('integer');
    expect(schemas.TaskBase.properties?.progress.type).toBe('integer');
    expect(schemas.UserDto.properties?.email.format).toBe('email');
    // A task is one schema per type: `type` decides `result`.
    expect(Object.keys(schemas.TaskDto.discriminator?.mapping ?? {}).sort()).toEqual([
      'account.password-reset-mail',
      'account.verify-email-mail',
      'email.welcome',
      'reports.signups',
      'users.export',
      'users.import',
    ]);
    expect(JSON.stringify(schemas.UsersExportTask)).toContain(
      '#/components/schemas/UsersExportResult',
    );
    for (const { operation } of operations) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'path') expect(parameter.schema?.format).toBe('uuid');
        if (['limit', 'waitMs'].includes(parameter.name))
          expect(parameter.schema?.type).toBe('integer');
      }
    }
    const submit = schemas.SubmitTaskDto;
    expect(submit.discriminator?.propertyName).toBe('type');
    expect(Object.keys(submit.discriminator?.mapping ?? {}).sort()).toEqual([
      'reports.signups',
      'users.export',
      'users.import',
    ]);
    expect(schemas.UsersImportSubmission.properties?.payload).toEqual({
      $ref: '#/components/schemas/UsersImportPayload',
    });
  });
});

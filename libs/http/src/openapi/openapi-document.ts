import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type {
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  TagObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { Problem, ProblemFieldError } from '@girder/errors';
import { BEARER_AUTH } from '@girder/permissions';
import { OPENAPI_MARKERS } from './openapi-extensions';
import {
  ERROR_RESPONSES,
  RATE_LIMIT_HEADERS,
  addHeader,
  addProblemComponents,
  type Operation,
} from './problem-responses';

export interface OpenApiOptions {
  /** Tags of the app's features, with their descriptions (core tags are added here). */
  tags?: TagObject[];
  /** Classes to document as schemas although no route names them (read when the document is built). */
  extraModels?: () => Array<Type<unknown>>;
  /** Changes the composition root makes to the finished document (e.g. a feature's schemas). */
  enhancers?: Array<(document: OpenAPIObject) => void>;
}

const DESCRIPTION = [
  'HTTP API of Girder.',
  '',
  '- **Errors** are RFC 9457 `application/problem+json` bodies (schema `Problem`); branch on',
  '  their stable `code`. Any operation answers 400 to a malformed request (bad JSON, NUL',
  '  bytes), 413 to a body over its limit and 415 to an unreadable one; a URL or headers over',
  '  16 KiB answer 431 with the same shape, before any route.',
  '- **Authentication**: `POST /api/v1/auth/login` (or register) answers a `Session`; send its',
  '  `accessToken` as `Authorization: Bearer …` (Swagger UI: "Authorize"). Refresh tokens rotate',
  '  and work once; presenting a used one revokes every session of the account.',
  '- **Collections** are pages `{ items, nextCursor }`: pass `nextCursor` as `?cursor=` for the',
  '  next page (newest first), `?limit=` 1..100.',
  '- **Operation ids are part of the contract**: generated clients name their functions after',
  '  them, so renaming one is a breaking change.',
].join('\n');

const CORE_TAGS: TagObject[] = [
  { name: 'health', description: 'Liveness and readiness probes for orchestrators (unversioned)' },
  { name: 'operations', description: 'Prometheus metrics (unversioned)' },
];

const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'Done; no body',
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/** Every operation of the document, with its path and method. */
function operationsOf(
  document: OpenAPIObject,
): Array<{ path: string; method: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map((method) => ({
      path,
      method,
      operation: item[method] as Operation,
    })),
  );
}

/**
 * The OpenAPI document of the app. Operation ids are the handler method names (stable, human,
 * independent of class names; a duplicate fails the build). Every error response is one of
 * the reusable `components.responses` with the `Problem` schema, derived from what happens
 * to the request: the edge checks every request passes (400, 413, 415), path params (404),
 * `@Permissions` (401, 403), the rate limit unless `@SkipRateLimit` (429, 503) and explicit
 * `@ApiResponse` statuses (whose texts join the operation's description).
 */
export function buildOpenApiDocument(
  app: INestApplication,
  options: OpenApiOptions = {},
): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Girder API')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'The server this document came from')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'accessToken of a Session',
      },
      BEARER_AUTH,
    );
  for (const tag of [...(options.tags ?? []), ...CORE_TAGS])
    builder.addTag(tag.name, tag.description);
  const owners = new Map<string, string>();
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: [Problem, ProblemFieldError, ...(options.extraModels?.() ?? [])],
    operationIdFactory: (controller: string, method: string) => {
      const owner = owners.get(method);
      if (owner !== undefined && owner !== controller)
        throw new Error(
          `Operation id "${method}" is used by ${owner} and ${controller}: rename one`,
        );
      owners.set(method, controller);
      return method;
    },
  });
  addProblemComponents(document);
  for (const { operation } of operationsOf(document)) finishOperation(operation);
  listEveryTag(document);
  for (const enhance of options.enhancers ?? []) enhance(document);
  return document;
}

/**
 * Every tag an operation uses is listed with a description; a feature that did not pass its
 * own (OpenApiOptions.tags) gets a plain one, so a new module never makes the document invalid.
 */
function listEveryTag(document: OpenAPIObject): void {
  const listed = new Set((document.tags ?? []).map((tag) => tag.name));
  for (const { operation } of operationsOf(document)) {
    for (const name of operation.tags ?? []) {
      if (listed.has(name)) continue;
      listed.add(name);
      (document.tags ??= []).push({ name, description: `The ${name} routes` });
    }
  }
}

function finishOperation(operation: Operation): void {
  const extensions = operation as unknown as Record<string, unknown>;
  const rateLimited = extensions[OPENAPI_MARKERS.rateLimited] !== false;
  const cached = extensions[OPENAPI_MARKERS.cached] === true;
  delete extensions[OPENAPI_MARKERS.rateLimited];
  delete extensions[OPENAPI_MARKERS.cached];

  const parameters = (operation.parameters ?? []) as ParameterObject[];
  for (const parameter of parameters) {
    // Path ids are UUIDs (UuidParamPipe answers 400 otherwise).
    if (parameter.in === 'path' && /(^id|Id)$/.test(parameter.name))
      parameter.schema = { type: 'string', format: 'uuid' };
  }
  // Every request passes the body parser and the hostile-input check first, whatever the
  // route: any of them can be malformed (400), too large (413) or unreadable (415).
  const statuses = new Set<number>([400, 413, 415]);
  if (parameters.some((parameter) => parameter.in === 'path')) statuses.add(404);
  if (rateLimited) {
    statuses.add(429);
    statuses.add(503);
  }

  const responses = operation.responses as Record<string, ResponseObject | ReferenceObject>;
  const specifics: string[] = [];
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    // A declared error body of its own (e.g. readiness's terminus shape) stays as declared.
    if (code < 400 || !ERROR_RESPONSES[code] || ('content' in response && response.content))
      continue;
    statuses.add(code);
    const description = '$ref' in response ? undefined : response.description;
    if (description && description !== ERROR_RESPONSES[code].description)
      specifics.push(`- ${code}: ${description}`);
  }
  for (const code of statuses) {
    if (ERROR_RESPONSES[code])
      responses[String(code)] = { $ref: `#/components/responses/${ERROR_RESPONSES[code].name}` };
  }
  for (const [status, response] of Object.entries(responses)) {
    if (Number(status) >= 400) continue;
    if (!('$ref' in response) && !response.description)
      response.description = SUCCESS_DESCRIPTIONS[status] ?? 'Success';
    addHeader(response, 'X-Request-ID');
    if (rateLimited) {
      for (const name of RATE_LIMIT_HEADERS) addHeader(response, name);
    }
    if (cached && status === '200') addHeader(response, 'X-Cache');
  }
  if (specifics.length > 0) {
    operation.description = [operation.description, 'Errors besides the usual ones:', ...specifics]
      .filter(Boolean)
      .join('\n\n');
  }
  // Operations without bearer security say so, instead of inheriting a global one.
  operation.security ??= [];
}

import { RequestMethod, VersioningType, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig } from '@girder/config';
import { requestIdMiddleware } from '@girder/logging';
import { json } from 'express';
import helmet from 'helmet';
import responseTime from 'response-time';
import { answerClientErrorsWithProblems } from './client-error-problems';
import { rejectHostileInput } from './hostile-input.middleware';
import type { OpenApiOptions } from './openapi/openapi-document';
import { setupSwagger } from './openapi/swagger';

/** The contract's default body limit; routes that accept more raise it themselves. */
export const JSON_BODY_LIMIT = '100kb';

export interface UnversionedRoute {
  path: string;
  method: RequestMethod;
}

/** Core routes outside `/api/v1`: health probes and metrics (see API.md); apps add theirs. */
export const UNVERSIONED_ROUTES: UnversionedRoute[] = [
  { path: 'health/live', method: RequestMethod.GET },
  { path: 'health/ready', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
];

/** Response headers browser clients may read (besides the CORS-safelisted ones). */
const CORS_EXPOSED_HEADERS = [
  'Location',
  'X-Request-ID',
  'X-Response-Time',
  'X-Cache',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];

/**
 * Everything the API needs before `listen()`, shared by `main.ts` and the e2e harness so
 * tests exercise exactly what production runs. Expects the app to be created with
 * `bodyParser: false` (the parser is installed here, after the request id).
 */
export interface HttpAppOptions {
  /** Routes that accept larger JSON bodies than the default, e.g. `{ '/api/v1/tasks': '5mb' }`. */
  bodyLimits?: Record<string, string>;
  /** Feature tags and document changes for `/docs-json`. */
  openApi?: OpenApiOptions;
  /** Routes besides the core ones that stay outside `/api/v1` (e.g. the queue dashboard). */
  unversionedRoutes?: UnversionedRoute[];
}

/** `/api/v1/...` for feature routes; health, metrics, docs and `extra` unversioned. */
export function configureRouting(app: INestApplication, extra: UnversionedRoute[] = []): void {
  app.setGlobalPrefix('api', { exclude: [...UNVERSIONED_ROUTES, ...extra] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
}

export function configureHttpApp(app: NestExpressApplication, options: HttpAppOptions = {}): void {
  const config = app.get(AppConfig);
  // false, a hop count or a list of proxy addresses (validated in @girder/config): `req.ip`, which
  // the rate limits count, is the address the outermost trusted proxy saw, never an entry the
  // client wrote itself. (`true` would take the left-most entry; production refuses it.)
  app.set('trust proxy', config.get('TRUST_PROXY'));
  app.disable('x-powered-by');
  // ETags cost ~20-30% throughput on small JSON and API clients rarely revalidate.
  app.set('etag', false);

  app.use(requestIdMiddleware);
  app.use(responseTime({ digits: 2, suffix: true }));
  app.use(
    helmet(
      config.isProduction
        ? {}
        : // Browsers would fetch Swagger UI's assets over https from a plain-http dev server.
          { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } },
    ),
  );
  const origins = config.get('CORS_ORIGINS');
  app.enableCors({
    // No listed origin: no CORS headers at all, so browsers on other origins are refused.
    origin: origins.length > 0 ? origins : false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-ID'],
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
  // A route's own parser runs first; the default one then sees the body as parsed and skips it.
  for (const [path, limit] of Object.entries(options.bodyLimits ?? {}))
    app.use(path, json({ limit }));
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(rejectHostileInput);
  answerClientErrorsWithProblems(app.getHttpServer());

  configureRouting(app, options.unversionedRoutes);
  setupSwagger(app, options.openApi);
}

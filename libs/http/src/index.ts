export {
  JSON_BODY_LIMIT,
  UNVERSIONED_ROUTES,
  configureHttpApp,
  configureRouting,
  type HttpAppOptions,
  type UnversionedRoute,
} from './configure-http-app';
export {
  PageQuery,
  decodeCursor,
  encodeCursor,
  toPage,
  type KeysetPosition,
  type Page,
} from './pagination';
export { OptionalNotNull } from './optional-not-null';
export { UuidParamPipe } from './uuid-param.pipe';
export { MarkCached, MarkNotRateLimited, OPENAPI_MARKERS } from './openapi/openapi-extensions';
export { buildOpenApiDocument, type OpenApiOptions } from './openapi/openapi-document';
export { ERROR_RESPONSES } from './openapi/problem-responses';
export { setupSwagger } from './openapi/swagger';

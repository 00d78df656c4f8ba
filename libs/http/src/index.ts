export {
  JSON_BODY_LIMIT,
  UNVERSIONED_ROUTES,
  configureHttpApp,
  type HttpAppOptions,
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
export { buildOpenApiDocument, setupSwagger } from './swagger';

export { LoggingModule, buildPinoHttpOptions } from './logging.module';
export { REDACTED, SECRET_KEYS, Secret, redactSecrets } from './redact-secrets';
export { resolveRequestId } from './request-id';
export { requestIdMiddleware } from './request-id.middleware';

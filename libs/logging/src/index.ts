export { LoggingModule, buildPinoHttpOptions } from './logging.module';
export { isPinoPrettyInstalled, shouldPrettyPrint, type PrettyLogsContext } from './pretty-logs';
export { OUTAGE_REMINDER_MS, OutageLog, type OutageLogger } from './outage-log';
export { REDACTED, SECRET_KEYS, Secret, redactSecrets } from './redact-secrets';
export { resolveRequestId } from './request-id';
export { requestIdMiddleware } from './request-id.middleware';

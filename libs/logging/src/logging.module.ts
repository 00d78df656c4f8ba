import { Module, RequestMethod } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule, type Params } from 'nestjs-pino';
import pino, { type DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import { isPinoPrettyInstalled, shouldPrettyPrint } from './pretty-logs';
import { REDACTED, redactSecrets } from './redact-secrets';
import { resolveRequestId } from './request-id';

/** Probes and scrapes would drown the useful lines. */
const QUIET_PATHS = /^\/(health|metrics)(\/|$|\?)/;

type RequestWithBody = IncomingMessage & { body?: unknown; originalUrl?: string };

/** What pino-std-serializers makes of a request before ours trims it. */
interface SerializedRequest {
  raw: RequestWithBody;
  method: string;
  url: string;
  remoteAddress?: string;
  headers: Record<string, unknown>;
}

export function buildPinoHttpOptions(config: AppConfig, service: string): Options {
  const level = config.get('LOG_LEVEL');
  const logBodies = level === 'debug' || level === 'trace';
  return {
    level,
    base: { service, pid: process.pid },
    transport: shouldPrettyPrint(config.get('LOG_PRETTY'), {
      isTty: process.stdout.isTTY === true,
      production: config.isProduction,
      prettyInstalled: isPinoPrettyInstalled,
    })
      ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } }
      : undefined,
    // Child loggers of a request carry only its id, not the whole request object.
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    // Normally `requestIdMiddleware` has set req.id already; this covers apps that skip it.
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      if (req.id) return req.id;
      const id = resolveRequestId(req.headers['x-request-id']);
      res.setHeader('X-Request-ID', id);
      return id;
    },
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    redact: {
      // Headers are only in debug lines; these paths keep their secrets out there too.
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'res.headers["set-cookie"]',
      ],
      censor: REDACTED,
    },
    formatters: {
      log: (object: Record<string, unknown>) => redactSecrets(object) as Record<string, unknown>,
    },
    // Compact request lines: every line is JSON-encoded and scanned for secrets, so the full
    // header dumps (about two thirds of each line) are kept for debug level only.
    serializers: {
      req: (req: SerializedRequest) => {
        const line: Record<string, unknown> = {
          method: req.method,
          url: req.raw.originalUrl ?? req.url,
          remoteAddress: req.remoteAddress,
          userAgent: req.headers['user-agent'],
        };
        if (logBodies) {
          line.headers = req.headers;
          // Bodies only at debug (they are large and personal), always redacted.
          if (req.raw.body !== undefined) line.body = redactSecrets(req.raw.body);
        }
        return line;
      },
      res: (res: { statusCode: number; headers: Record<string, unknown> }) =>
        logBodies ? res : { statusCode: res.statusCode },
    },
  };
}

let stdout: DestinationStream | undefined;

/**
 * stdout written asynchronously (pino's SonicBoom): a request never waits for its log line to
 * reach a slow pipe or terminal, and lines that arrive while a write is in flight go out
 * together. pino flushes what is still buffered synchronously when the process exits, on
 * every exit path (graceful or fatal, all go through process.exit); only SIGKILL can lose
 * the last lines. One destination per process, shared by every app in it.
 */
function asyncStdout(): DestinationStream {
  stdout ??= pino.destination({ dest: 1, sync: false });
  return stdout;
}

/** nestjs-pino's `pinoHttp`: the options, with the asynchronous stdout unless pretty-printing. */
export function pinoHttpParams(config: AppConfig, service: string): Params['pinoHttp'] {
  const options = buildPinoHttpOptions(config, service);
  return options.transport ? options : [options, asyncStdout()];
}

/**
 * JSON-lines logging through nestjs-pino for both apps. Every line logged while handling a
 * request carries `requestId` (and `userId` once authenticated, see `RequestLogContext`).
 */
@Module({})
export class LoggingModule {
  static forRoot(service: 'api' | 'worker') {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            pinoHttp: pinoHttpParams(config, service),
            forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
            // Probes are never logged (see QUIET_PATHS) and need no request context (no user):
            // they skip the request logger altogether, a measurable share of their time.
            exclude: [{ path: 'health/{*rest}', method: RequestMethod.GET }],
            // Fields added with PinoLogger.assign (the user id) also reach the request's summary line.
            assignResponse: true,
          }),
        }),
      ],
      exports: [LoggerModule],
    };
  }
}

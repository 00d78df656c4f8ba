import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { problemForDatabaseError } from './database-error';
import { ErrorReporter } from './error-reporter';
import { PROBLEM_CODES, codeForStatus, problemType, type ProblemCode } from './problem-code';
import { PROBLEM_CONTENT_TYPE, type FieldError, type ProblemDetails } from './problem-details';
import { ProblemException } from './problem.exception';

interface ResolvedProblem {
  code: ProblemCode;
  status: number;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** Errors from Express middleware (body-parser, http-errors) carry a status and a type. */
interface HttpMiddlewareError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** What a 503 suggests: outages are retried by clients every few seconds, not hammered. */
const RETRY_AFTER_SECONDS = 5;

type RequestWithContext = Request & { id?: string; user?: { id?: string } };

/**
 * The single place that turns anything thrown while serving HTTP into RFC 9457 problem+json.
 * Client errors keep a helpful detail; anything unexpected becomes a bare 500 whose real
 * error goes only to the log and the `ErrorReporter`.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly reporter: ErrorReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const request = host.switchToHttp().getRequest<RequestWithContext>();
    const response = host.switchToHttp().getResponse<Response>();
    const problem = this.resolve(exception);

    if (problem.status >= 500 && problem.code === 'INTERNAL') {
      this.reporter.report(exception, {
        requestId: request.id,
        method: request.method,
        path: request.originalUrl,
        userId: request.user?.id,
      });
    }
    if (response.headersSent) {
      // A streamed response failed half-way: the status line is gone, only closing remains.
      response.destroy();
      return;
    }

    const body: ProblemDetails = {
      type: problemType(problem.code),
      title: PROBLEM_CODES[problem.code].title,
      status: problem.status,
      detail: problem.detail,
      // The path only: the query string may hold anything a client sent.
      instance: (request.originalUrl ?? request.url).split('?')[0],
      code: problem.code,
      requestId: String(request.id ?? response.getHeader('X-Request-ID') ?? ''),
      ...(problem.errors ? { errors: problem.errors } : {}),
    };
    for (const [name, value] of Object.entries(problem.headers ?? {}))
      response.setHeader(name, value);
    // Every 503 tells clients when to come back (API.md: SERVICE_UNAVAILABLE with Retry-After).
    if (problem.status === 503 && !response.hasHeader('Retry-After'))
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private resolve(exception: unknown): ResolvedProblem {
    if (exception instanceof ProblemException) {
      return {
        code: exception.code,
        status: exception.getStatus(),
        detail: exception.detail,
        errors: exception.errors,
        headers: exception.headers,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { code: codeForStatus(status), status, detail: this.httpDetail(exception, status) };
    }
    const database = problemForDatabaseError(exception);
    if (database) return { ...database, status: PROBLEM_CODES[database.code].status };

    const middleware = exception as HttpMiddlewareError | undefined;
    const status = middleware?.status ?? middleware?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      if (middleware?.type === 'entity.too.large') {
        return {
          code: 'PAYLOAD_TOO_LARGE',
          status: 413,
          detail: 'The request body is larger than this route accepts.',
        };
      }
      const detail =
        middleware?.expose && middleware.message
          ? middleware.message
          : 'The request could not be processed.';
      return { code: codeForStatus(status), status, detail };
    }
    return {
      code: 'INTERNAL',
      status: 500,
      detail: 'An unexpected error occurred. Quote the request id when reporting it.',
    };
  }

  private httpDetail(exception: HttpException, status: number): string {
    if (status >= 500)
      return status === 503
        ? 'The service is temporarily unavailable.'
        : 'An unexpected error occurred.';
    const response = exception.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : ((response as { message?: unknown }).message ?? exception.message);
    const text = Array.isArray(message)
      ? message.join('; ')
      : typeof message === 'string'
        ? message
        : exception.message;
    // Express body-parser's JSON errors arrive as a SyntaxError mapped to 400 by Nest.
    if (status === 400 && /JSON/.test(text)) return `Malformed JSON body: ${text}`;
    return text;
  }
}

import { Injectable, Logger } from '@nestjs/common';

export interface ErrorReport {
  requestId?: string;
  method?: string;
  path?: string;
  userId?: string;
}

/**
 * Where unexpected errors go besides the response. The default writes them to the log with
 * their stack; bind your own class to this token to send them to Sentry or similar (see
 * docs/error-reporting.md).
 */
export abstract class ErrorReporter {
  abstract report(error: unknown, context: ErrorReport): void;
}

@Injectable()
export class LogErrorReporter extends ErrorReporter {
  private readonly logger = new Logger('UnexpectedError');

  report(error: unknown, context: ErrorReport): void {
    this.logger.error({ err: error, ...context }, 'unexpected error');
  }
}

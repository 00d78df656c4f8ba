import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ErrorReporter, LogErrorReporter } from './error-reporter';
import { ProblemDetailsFilter } from './problem-details.filter';
import { createValidationPipe } from './validation.pipe';

export interface ErrorsModuleOptions {
  /** Where unexpected errors are reported besides the response; defaults to the log. */
  reporter?: Type<ErrorReporter>;
}

/**
 * Installs the problem+json filter and the validation pipe for every route of the app that
 * imports it.
 */
@Module({})
export class ErrorsModule {
  static forRoot(options: ErrorsModuleOptions = {}): DynamicModule {
    return {
      module: ErrorsModule,
      global: true,
      providers: [
        { provide: ErrorReporter, useClass: options.reporter ?? LogErrorReporter },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
      exports: [ErrorReporter],
    };
  }
}

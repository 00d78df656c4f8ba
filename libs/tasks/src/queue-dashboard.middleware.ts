import { Injectable, NestMiddleware } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ProblemException } from '@girder/errors';
import { Authenticator } from '@girder/permissions';
import type { NextFunction, Request, Response } from 'express';

/** bull-board is plain Express, outside the guard: this middleware lets only admins in. */
@Injectable()
export class QueueDashboardAuthMiddleware implements NestMiddleware {
  constructor(private readonly authenticator: Authenticator) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    const user = await this.authenticator.authenticate(
      new ExecutionContextHost([request, response, next]),
    );
    if (!user)
      throw new ProblemException(
        'UNAUTHENTICATED',
        'The queue dashboard needs an admin access token.',
      );
    if (user.role !== 'admin')
      throw new ProblemException('FORBIDDEN', 'The queue dashboard is for admins.');
    next();
  }
}

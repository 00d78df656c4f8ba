import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveRequestId } from './request-id';

type RequestWithId = IncomingMessage & { id?: string };

/**
 * Assigns the request id before anything else runs (body parsing can fail before Nest's
 * middleware does), so even a malformed-JSON 400 carries `X-Request-ID`. pino-http reuses
 * `req.id` rather than generating its own.
 */
export function requestIdMiddleware(
  req: RequestWithId,
  res: ServerResponse,
  next: () => void,
): void {
  req.id = resolveRequestId(req.headers['x-request-id']);
  res.setHeader('X-Request-ID', req.id);
  next();
}

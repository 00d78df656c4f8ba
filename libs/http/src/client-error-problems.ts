import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '@girder/errors';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses before any middleware runs (headers or URL over Node's
 * 16 KiB limit, malformed request lines) would get Node's bare status line. Answer them with
 * a problem+json body like every other 4xx, then close the connection.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const requestId = randomUUID();
    const body: ProblemDetails = {
      type: '/problems/bad-request',
      title: tooLarge ? 'Request header fields too large' : 'Bad request',
      status,
      detail: tooLarge
        ? 'The URL or headers are larger than the server accepts (16 KiB).'
        : 'The request could not be parsed.',
      instance: '',
      code: 'BAD_REQUEST',
      requestId,
    };
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\n` +
        `X-Request-ID: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        text,
    );
  });
}

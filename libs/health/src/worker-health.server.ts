import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '@girder/config';
import {
  PROBLEM_CODES,
  PROBLEM_CONTENT_TYPE,
  problemType,
  type ProblemDetails,
} from '@girder/errors';
import {
  METRICS_TOKEN_REQUIRED,
  MetricsRegistry,
  hasMetricsToken,
  metricsTokenChallenge,
} from '@girder/metrics';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { ReadinessService } from './readiness.service';

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

/** A scrape without the right METRICS_TOKEN: the same 401 problem+json as the API's `/metrics`. */
function sendMetricsUnauthorized(
  response: ServerResponse,
  path: string,
  authorization: string | undefined,
): void {
  const requestId = randomUUID();
  const body: ProblemDetails = {
    type: problemType('UNAUTHENTICATED'),
    title: PROBLEM_CODES.UNAUTHENTICATED.title,
    status: PROBLEM_CODES.UNAUTHENTICATED.status,
    detail: METRICS_TOKEN_REQUIRED,
    instance: path,
    code: 'UNAUTHENTICATED',
    requestId,
  };
  response.writeHead(body.status, {
    'Content-Type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    'WWW-Authenticate': metricsTokenChallenge(authorization),
    'X-Request-ID': requestId,
    'Cache-Control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

/**
 * The worker's only listener: `/health/live` and `/health/ready` on WORKER_HEALTH_PORT, with the
 * same checks as the API, and `/metrics` when the worker has a metrics registry (behind
 * METRICS_TOKEN when it is set, like the API's). A bare node:http server keeps the worker free
 * of a web framework.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHealth');
  private server?: Server;

  constructor(
    private readonly readiness: ReadinessService,
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.get('WORKER_HEALTH_PORT');
    this.server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'GET')
        return sendJson(response, 405, { status: 'error', message: 'GET only' });
      if (path === '/health/live') return sendJson(response, 200, { status: 'ok' });
      if (path === '/health/ready') {
        this.readiness
          .check()
          .then((report) => sendJson(response, report.healthy ? 200 : 503, report.result))
          .catch((error: Error) => {
            this.logger.error({ err: error }, 'readiness check failed');
            sendJson(response, 503, { status: 'error', message: 'readiness check failed' });
          });
        return;
      }
      if (path === '/metrics' && this.metrics) {
        const authorization = request.headers.authorization;
        if (!hasMetricsToken(authorization, this.config.get('METRICS_TOKEN')))
          return sendMetricsUnauthorized(response, path, authorization);
        this.metrics
          .metrics()
          .then((text) => {
            response.writeHead(200, { 'Content-Type': this.metrics!.contentType });
            response.end(text);
          })
          .catch((error: Error) => {
            this.logger.error({ err: error }, 'metrics collection failed');
            sendJson(response, 500, { status: 'error', message: 'metrics collection failed' });
          });
        return;
      }
      return sendJson(response, 404, { status: 'error', message: 'not found' });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, () => resolve());
    });
    this.logger.log(`Health endpoints on http://localhost:${port}/health/{live,ready}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bound port (useful when WORKER_HEALTH_PORT is 0 in tests). */
  get port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }
}

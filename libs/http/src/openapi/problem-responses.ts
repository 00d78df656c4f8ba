import type {
  HeaderObject,
  OpenAPIObject,
  OperationObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { PROBLEM_CONTENT_TYPE } from '@girder/errors';

/** The reusable error responses, by status: every 4xx/5xx of every operation is one of these. */
export const ERROR_RESPONSES: Readonly<Record<number, { name: string; description: string }>> = {
  400: {
    name: 'BadRequest',
    description:
      'Invalid body, query or path, malformed JSON, NUL bytes (VALIDATION_FAILED, BAD_REQUEST)',
  },
  401: {
    name: 'Unauthorized',
    description: 'No, invalid, expired or revoked access token (UNAUTHENTICATED, TOKEN_REVOKED)',
  },
  403: { name: 'Forbidden', description: 'Authenticated, but not allowed (FORBIDDEN)' },
  404: {
    name: 'NotFound',
    description: 'No such resource, or not visible to the caller (NOT_FOUND)',
  },
  409: {
    name: 'Conflict',
    description: 'The request conflicts with the current state (see `code`)',
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'A body in a charset or content encoding the server does not read',
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The body is larger than the route accepts (PAYLOAD_TOO_LARGE)',
  },
  429: {
    name: 'TooManyRequests',
    description: 'A rate limit was hit (RATE_LIMITED); retry after Retry-After seconds',
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'A dependency is down (SERVICE_UNAVAILABLE); retry after Retry-After seconds',
  },
};

export const HEADERS: Record<string, HeaderObject> = {
  'X-Request-ID': {
    description:
      'The request id: the incoming one when sane, else a new UUID. Also in every log line and error body.',
    schema: { type: 'string', maxLength: 128 },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed in the current window (the tightest limit of the route)',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window ends',
    schema: { type: 'integer', minimum: 0 },
  },
  'X-Cache': {
    description: 'HIT when the body came from the response cache, else MISS',
    schema: { type: 'string', enum: ['HIT', 'MISS'] },
  },
};

/** Sent on every response of a rate-limited route. */
export const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

const headerRef = (name: string): ReferenceObject => ({
  $ref: `#/components/headers/${name}`,
});

/** `components.headers` and `components.responses` for the problems. */
export function addProblemComponents(document: OpenAPIObject): void {
  const components = (document.components ??= {});
  components.headers = { ...(components.headers ?? {}), ...HEADERS };
  const responses: Record<string, ResponseObject> = {};
  for (const [status, { name, description }] of Object.entries(ERROR_RESPONSES)) {
    const headers: Record<string, ReferenceObject> = { 'X-Request-ID': headerRef('X-Request-ID') };
    if (status === '429' || status === '503') headers['Retry-After'] = headerRef('Retry-After');
    if (status === '429') {
      for (const name of RATE_LIMIT_HEADERS) headers[name] = headerRef(name);
    }
    responses[name] = {
      description,
      headers,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  components.responses = { ...(components.responses ?? {}), ...responses };
}

/** Adds a header reference to a (non-reference) response. */
export function addHeader(response: ResponseObject | ReferenceObject, name: string): void {
  if ('$ref' in response) return;
  response.headers = { ...(response.headers ?? {}), [name]: headerRef(name) };
}

export type Operation = OperationObject;

/**
 * The typed Girder client: copy this folder (index.ts and the generated girder-api.d.ts) into
 * a front end that has `openapi-fetch` installed. girder-api.d.ts is generated from the API's
 * OpenAPI document by `npm run sdk`; this file is the only hand-written part.
 *
 *   const client = createGirderClient('https://api.example.com');
 *   const { data, error } = await client.POST('/api/v1/auth/login', { body: { email, password } });
 *   if (error) throw new Error(error.detail); // error: Problem, branch on error.code
 *   client.use(bearerAuth(data.accessToken));
 *
 * See docs/calling-the-api.md.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, paths } from './girder-api.js';

export type { components, operations, paths } from './girder-api.js';

/** The body of every 4xx and 5xx answer (RFC 9457, `application/problem+json`). */
export type Problem = components['schemas']['Problem'];
/** Problem.code: stable and machine-readable, branch on it. */
export type ProblemCode = components['schemas']['ProblemCode'];

export type GirderClient = Client<paths>;

/**
 * An openapi-fetch client for the API at `baseUrl`, the origin the API is served from (paths
 * already carry `/api/v1`), e.g. `https://api.example.com`. `options` are openapi-fetch's
 * (headers, fetch, credentials, …).
 */
export function createGirderClient(
  baseUrl: string,
  options: Omit<ClientOptions, 'baseUrl'> = {},
): GirderClient {
  return createClient<paths>({ ...options, baseUrl });
}

/**
 * Middleware sending `Authorization: Bearer <token>` on every request: `client.use(it)`, and
 * `client.eject(it)` to stop. `token` is a Session's accessToken, or a function returning
 * the current one (null or undefined: no header). A request that sets its own Authorization
 * header keeps it.
 */
export function bearerAuth(token: string | (() => string | null | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === 'function' ? token() : token;
      if (value && !request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${value}`);
      }
      return request;
    },
  };
}

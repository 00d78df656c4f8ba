import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ApiClient, uniqueEmail } from '../support/api-client';
import { createApiApp } from '../support/test-app';
import {
  HOSTILE_DATES,
  deepValues,
  forgedAuthorizations,
  hostileBodyValues,
  hostileHeaderValues,
  hostileQueryValues,
  junkIds,
  nestedObjectJson,
  structuralQueries,
  unknownQueries,
  type Hostile,
} from './hostile-values';

/**
 * API.md, "Errors": no client input produces a 5xx, and every 4xx is problem+json. This suite
 * reads the OpenAPI document the app serves and walks every operation in it as three callers
 * (anonymous, a freshly registered user, an admin), sending hostile values derived from each
 * operation's declared parameters and body schema. It collects every broken response and
 * reports them together at the end of each test, grouped, rather than stopping at the first.
 *
 * Exclusions (few, on purpose):
 * - `/docs` (Swagger UI assets) and `/admin/queues` (bull-board) are not in the document, so
 *   they are not walked; `/docs-json` itself is fetched once.
 * - Callers get a fresh session for every operation, and a fresh one for every request on the
 *   operations that revoke sessions (`.../logout*`, `DELETE .../sessions/{id}`), so a logout
 *   never turns the rest of the walk into 401s.
 * - The admin caller is an admin account created for this suite, not the seeded ADMIN (which
 *   is only used to create it): other suites share the database and log in as ADMIN while this
 *   one runs, and fuzzing `PATCH /users/me`, `POST /auth/logout-all` or `POST /auth/refresh` as
 *   ADMIN would rename it or revoke their sessions.
 * - A caller's own id is used as a path id only with GET: a valid PATCH or DELETE of
 *   `/users/{own id}` would demote, lock out or delete the caller mid-walk. Mutations get the
 *   id of a throwaway user (and of a task) instead.
 */

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];
type CallerName = 'anonymous' | 'user' | 'admin';
const CALLERS: CallerName[] = ['anonymous', 'user', 'admin'];

/** The password of every account this suite creates (the users' valid-ish password, too). */
const PASSWORD = 'correct-horse-battery';
const CONCURRENCY = 8;
const PROBLEM = 'application/problem+json';

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  nullable?: boolean;
}

interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Partial<Record<Method, OpenApiOperation>> & { parameters?: Parameter[] }>;
  components?: { schemas?: Record<string, Schema>; parameters?: Record<string, Parameter> };
}

interface OpenApiOperation {
  parameters?: Parameter[];
  requestBody?: { $ref?: string; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, unknown>;
  security?: unknown[];
}

interface Operation {
  method: Method;
  template: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  headerParams: Parameter[];
  /** The resolved JSON body schema, when the operation declares one. */
  body?: Schema;
  secured: boolean;
  /** Answers 201: the operation creates something, so valid-ish bodies need a new email. */
  creates: boolean;
  /** Logging out (or ending a session) revokes the caller's token: fresh session per request. */
  revokes: boolean;
  /** The statuses its document declares: every status it answers must be one of them. */
  documented: Set<number>;
}

/** Who is calling, and what a well-meaning client of that caller would put in a request. */
interface Context {
  caller: CallerName;
  token?: string;
  refreshToken: string;
  email: string;
  userId: string;
  /** Ids of real rows, by the collection segment that precedes `{id}` in a path. */
  ids: Record<string, string>;
}

interface Sent {
  kind: string;
  url: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

interface Failure {
  test: string;
  caller: CallerName;
  method: string;
  template: string;
  kind: string;
  status: number | 'no response';
  problem: string;
  url: string;
  body?: string;
  response: string;
}

const truncate = (text: string | undefined, max: number): string =>
  text === undefined
    ? ''
    : text.length > max
      ? `${text.slice(0, max)}… (${text.length} chars)`
      : text;

/** Makes control characters visible in reports. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;
const visible = (text: string): string =>
  text.replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Reads every response as text, whatever its content type (downloads included). */
function textParser(res: unknown, done: (err: Error | null, body: unknown) => void): void {
  const message = res as IncomingMessage;
  let text = '';
  message.setEncoding('utf8');
  message.on('data', (chunk: string) => (text += chunk));
  message.on('end', () => done(null, text));
  message.on('error', (error) => done(error, text));
}

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

describe('OpenAPI fuzz: no client input gives a 5xx; every 4xx is problem+json', () => {
  let app: INestApplication;
  let api: ApiClient;
  let doc: OpenApiDocument;
  let operations: Operation[];
  let adminAccount: { email: string; id: string };
  let taskId: string;
  const allFailures: Failure[] = [];
  let requestCount = 0;
  /** `caller METHOD template` of every 2xx answer, to prove the walk reaches past validation. */
  const succeeded = new Set<string>();

  // ---------------------------------------------------------------- the document

  const resolve = (schema: Schema | undefined, depth = 0): Schema => {
    if (!schema || depth > 20) return {};
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      return resolve(doc.components?.schemas?.[name], depth + 1);
    }
    if (schema.allOf) {
      const parts = schema.allOf.map((part) => resolve(part, depth + 1));
      return {
        ...schema,
        type: 'object',
        properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})),
        required: parts.flatMap((part) => part.required ?? []),
      };
    }
    return schema;
  };

  const resolveParameter = (parameter: Parameter): Parameter =>
    parameter.$ref
      ? (doc.components?.parameters?.[parameter.$ref.split('/').pop() ?? ''] ?? parameter)
      : parameter;

  function readOperations(): Operation[] {
    const found: Operation[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map(
          resolveParameter,
        );
        const content = operation.requestBody?.content ?? {};
        const json = Object.entries(content).find(([type]) => /json/.test(type))?.[1];
        found.push({
          method,
          template,
          pathParams: parameters.filter((p) => p.in === 'path'),
          queryParams: parameters.filter((p) => p.in === 'query'),
          headerParams: parameters.filter((p) => p.in === 'header'),
          body: json?.schema ? resolve(json.schema) : undefined,
          secured: (operation.security ?? []).length > 0,
          creates: Object.keys(operation.responses ?? {}).includes('201'),
          revokes: /logout/.test(template) || (method === 'delete' && /sessions/.test(template)),
          documented: new Set(Object.keys(operation.responses ?? {}).map(Number)),
        });
      }
    }
    // Session-ending operations go last, so the walk's order never depends on them.
    return [...found.filter((o) => !o.revokes), ...found.filter((o) => o.revokes)];
  }

  // ---------------------------------------------------------------- callers

  async function login(email: string) {
    const response = await api
      .http()
      .post('/api/v1/auth/login')
      .send({ email, password: PASSWORD });
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${response.text}`);
    return response.body as { accessToken: string; refreshToken: string; user: { id: string } };
  }

  /** A fresh session for `caller`, and fresh throwaway rows to point path ids at. */
  async function freshContext(caller: CallerName, operation: Operation): Promise<Context> {
    const ids: Record<string, string> = { tasks: taskId };
    if (operation.pathParams.length > 0) ids.users = (await api.register()).user.id;
    if (caller === 'admin') {
      const session = await login(adminAccount.email);
      return {
        caller,
        token: session.accessToken,
        refreshToken: session.refreshToken,
        email: adminAccount.email,
        userId: adminAccount.id,
        ids,
      };
    }
    const session = await api.register({ password: PASSWORD, name: 'Fuzz User' });
    return {
      caller,
      token: caller === 'user' ? session.accessToken : undefined,
      refreshToken: session.refreshToken,
      email: session.user.email,
      userId: session.user.id,
      ids,
    };
  }

  // ---------------------------------------------------------------- valid-ish values

  const isEmailish = (name: string) => /email/i.test(name);

  /** Names listed in a description, e.g. "users.import, users.export, reports.signups". */
  const listedNames = (schema: Schema): string[] =>
    (schema.description ?? '').match(/\b[a-z][a-z0-9_-]*\.[a-z][a-z0-9_.-]*\b/g) ?? [];

  function validValue(
    name: string,
    raw: Schema | undefined,
    context: Context,
    emailMode: 'own' | 'fresh',
  ): unknown {
    const schema = resolve(raw);
    if (schema.enum?.length) return schema.enum[0];
    switch (schema.type) {
      case 'string': {
        if (isEmailish(name)) return emailMode === 'own' ? context.email : uniqueEmail('fuzz');
        if (schema.format === 'password' || /password/i.test(name)) return PASSWORD;
        if (/token/i.test(name)) return context.refreshToken;
        if (schema.format === 'uuid') return randomUUID();
        if (schema.format === 'date-time') return new Date().toISOString();
        if (schema.format === 'date') return new Date().toISOString().slice(0, 10);
        if (typeof schema.example === 'string') return schema.example;
        const text = 'Fuzz value'.padEnd(schema.minLength ?? 0, 'x');
        return schema.maxLength ? text.slice(0, schema.maxLength) : text;
      }
      case 'integer':
      case 'number':
        return schema.minimum ?? 1;
      case 'boolean':
        return true;
      case 'array':
        return schema.items ? [validValue(name, schema.items, context, emailMode)] : [];
      case 'object':
      case undefined:
        if (schema.example !== undefined) return schema.example;
        return Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([key, value]) => [
            key,
            validValue(key, value, context, emailMode),
          ]),
        );
      default:
        return 'fuzz';
    }
  }

  /** Raw JSON text of an object whose values are already raw JSON text. */
  const objectJson = (entries: Array<[string, string]>): string =>
    `{${entries.map(([key, raw]) => `${JSON.stringify(key)}:${raw}`).join(',')}}`;

  /** Valid-ish body fields as raw JSON: every property (`all`) or only the required ones. */
  function bodyEntries(
    schema: Schema,
    context: Context,
    emailMode: 'own' | 'fresh',
    which: 'all' | 'required',
  ): Array<[string, string]> {
    const required = new Set(schema.required ?? []);
    return Object.entries(schema.properties ?? {})
      .filter(([key]) => which === 'all' || required.has(key))
      .map(([key, value]) => [key, JSON.stringify(validValue(key, value, context, emailMode))]);
  }

  const validBody = (operation: Operation, context: Context, emailMode: 'own' | 'fresh' = 'own') =>
    operation.body
      ? operation.body.properties
        ? objectJson(bodyEntries(operation.body, context, emailMode, 'all'))
        : JSON.stringify(validValue('body', operation.body, context, emailMode))
      : undefined;

  const emailModes = (operation: Operation): Array<'own' | 'fresh'> =>
    Object.keys(operation.body?.properties ?? {}).some(isEmailish) ? ['own', 'fresh'] : ['own'];

  /** Path with real ids in it, `overrides` replacing some parameters with raw text. */
  function buildPath(
    operation: Operation,
    context: Context,
    overrides: Record<string, string> = {},
  ): string {
    return operation.template.replace(/\{([^}]+)\}/g, (_match, name: string, offset: number) => {
      if (name in overrides) return overrides[name];
      const segment = operation.template.slice(0, offset).split('/').filter(Boolean).pop() ?? '';
      return context.ids[segment] ?? randomUUID();
    });
  }

  function validQuery(operation: Operation, context: Context): string {
    return operation.queryParams
      .filter((p) => !/cursor/i.test(p.name)) // only the API can mint a valid cursor
      .map((p) => {
        const value = validValue(p.name, p.schema, context, 'own');
        return `${encodeURIComponent(p.name)}=${encodeURIComponent(String(value))}`;
      })
      .join('&');
  }

  const withQuery = (path: string, query: string) => (query ? `${path}?${query}` : path);

  // ---------------------------------------------------------------- sending and checking

  function check(status: number, contentType: string, text: string): string | undefined {
    if (status >= 500) return '5xx';
    // API.md, Users: no response ever contains a password hash.
    if (/\$argon2|passwordHash|password_hash/.test(text)) return 'response leaks a password hash';
    if (status < 400) return undefined;
    if (!contentType.includes(PROBLEM)) return `4xx without ${PROBLEM} (got "${contentType}")`;
    let body: { status?: unknown; code?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return '4xx body is not JSON';
    }
    if (body.status !== status) return `4xx body.status ${String(body.status)} ≠ ${status}`;
    if (typeof body.code !== 'string') return '4xx body without a string code';
    return undefined;
  }

  /**
   * A status the operation's document does not declare: the API description would lie to the
   * clients generated from it. 431 is Node's answer to an oversized request line, before any
   * route: the document's description states it once.
   */
  function undocumented(operation: Operation, status: number): string | undefined {
    if (status === 431 || operation.documented.has(status)) return undefined;
    return `status ${status} is not documented for this operation`;
  }

  async function send(
    test: string,
    operation: Operation,
    context: Context,
    sent: Sent,
    failures: Failure[],
  ): Promise<void> {
    requestCount += 1;
    const record = (status: Failure['status'], problem: string, response: string) =>
      failures.push({
        test,
        caller: context.caller,
        method: operation.method.toUpperCase(),
        template: operation.template,
        kind: sent.kind,
        status,
        problem,
        url: sent.url,
        body: sent.body,
        response,
      });
    try {
      const call = api
        .http()
        [operation.method](sent.url)
        .ok(() => true)
        .redirects(0)
        .timeout({ response: 20_000, deadline: 30_000 })
        .buffer(true)
        .parse(textParser);
      if (context.token) void call.set('Authorization', `Bearer ${context.token}`);
      for (const [header, value] of Object.entries(sent.headers ?? {}))
        void call.set(header, value);
      if (sent.body !== undefined) {
        void call.set('Content-Type', sent.contentType ?? 'application/json');
        void call.send(sent.body);
      }
      const response = await call;
      const text = typeof response.body === 'string' ? response.body : '';
      const problem =
        check(response.status, String(response.headers['content-type'] ?? ''), text) ??
        undocumented(operation, response.status);
      if (problem) record(response.status, problem, text);
      if (response.status < 300)
        succeeded.add(`${context.caller} ${operation.method.toUpperCase()} ${operation.template}`);
    } catch (error) {
      record('no response', 'no response', (error as Error).message);
    }
  }

  /**
   * Sends `cases(context)` for every operation and caller, a fresh session per operation (per
   * request for session-ending operations), and fails with every broken response at once.
   */
  async function walk(
    test: string,
    cases: (operation: Operation, context: Context) => Sent[],
    only: (operation: Operation) => boolean = () => true,
  ): Promise<void> {
    const failures: Failure[] = [];
    const walked = operations.filter(only);
    expect(walked.length).toBeGreaterThan(0);
    for (const operation of walked) {
      for (const caller of CALLERS) {
        const context = await freshContext(caller, operation);
        const sents = cases(operation, context);
        if (!operation.revokes) {
          await inPool(sents, CONCURRENCY, (sent) =>
            send(test, operation, context, sent, failures),
          );
          continue;
        }
        for (const [index, sent] of sents.entries()) {
          const own =
            index === 0 || caller === 'anonymous' ? context : await freshContext(caller, operation);
          // The case was built for the first context; put this request's own token in.
          await send(test, operation, own, sent, failures);
        }
      }
    }
    allFailures.push(...failures);
    if (failures.length > 0) throw new Error(report(test, failures));
  }

  /** Groups failures that share a root (same route, status, problem and value kind). */
  function report(test: string, failures: Failure[]): string {
    const groups = new Map<string, { failure: Failure; callers: Set<string>; count: number }>();
    for (const failure of failures) {
      const key = [failure.problem, failure.status, failure.method, failure.template, failure.kind]
        .map(String)
        .join('|');
      const group = groups.get(key) ?? { failure, callers: new Set<string>(), count: 0 };
      group.callers.add(failure.caller);
      group.count += 1;
      groups.set(key, group);
    }
    const lines = [...groups.values()]
      .sort((a, b) =>
        `${a.failure.template} ${a.failure.method}`.localeCompare(
          `${b.failure.template} ${b.failure.method}`,
        ),
      )
      .map(({ failure, callers, count }) =>
        [
          `● ${failure.status} ${failure.method} ${failure.template} — ${failure.kind}` +
            ` — ${failure.problem} — callers: ${[...callers].join(', ')}${count > callers.size ? ` (${count}×)` : ''}`,
          `    sent: ${failure.method} ${visible(truncate(failure.url, 160))}` +
            (failure.body === undefined ? '' : ` body: ${visible(truncate(failure.body, 160))}`),
          `    got:  ${visible(truncate(failure.response, 300))}`,
        ].join('\n'),
      );
    return `${test}: ${failures.length} responses broke the contract (${groups.size} distinct):\n${lines.join('\n')}`;
  }

  // ---------------------------------------------------------------- hostile bodies

  /** Whole-body variants every operation gets (a real client can send a body with any verb). */
  function wholeBodies(operation: Operation, context: Context): Sent[] {
    const path = buildPath(operation, context);
    const valid = validBody(operation, context) ?? '{}';
    const properties = Object.keys(operation.body?.properties ?? {});
    const extend = (extra: string) =>
      valid === '{}' ? `{${extra}}` : `${valid.slice(0, -1)},${extra}}`;
    const bodies: Array<Omit<Sent, 'url'>> = [
      { kind: 'body null', body: 'null' },
      { kind: 'body []', body: '[]' },
      { kind: 'body "x"', body: '"x"' },
      { kind: 'body 1', body: '1' },
      { kind: 'body JSON 1e400', body: '1e400' },
      { kind: 'body true', body: 'true' },
      { kind: 'body {}', body: '{}' },
      { kind: 'body [valid]', body: `[${valid}]` },
      { kind: 'body empty', body: '' },
      { kind: 'body malformed', body: '{"a":' },
      { kind: 'body raw NUL byte', body: '{"a":"\u0000"}' },
      { kind: 'body with BOM', body: `\ufeff${valid}` },
      { kind: 'valid + unknown property', body: extend('"fuzzUnknown":1') },
      { kind: 'valid + unknown null', body: extend('"fuzzUnknown":null') },
      { kind: 'valid + __proto__', body: extend('"__proto__":{"polluted":true}') },
      { kind: 'valid + constructor', body: extend('"constructor":{"prototype":{"polluted":1}}') },
      { kind: 'content-type text/plain', body: valid, contentType: 'text/plain' },
      {
        kind: 'content-type form',
        body: 'email=a%40example.com&email=b&name[]=x',
        contentType: 'application/x-www-form-urlencoded',
      },
      {
        kind: 'content-type multipart',
        body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
        contentType: 'multipart/form-data; boundary=x',
      },
      { kind: 'charset utf-16', body: valid, contentType: 'application/json; charset=utf-16' },
      { kind: 'charset bogus', body: valid, contentType: 'application/json; charset=bogus-8' },
      { kind: 'merge-patch+json', body: valid, contentType: 'application/merge-patch+json' },
      {
        kind: 'content-encoding gzip garbage',
        body: valid,
        headers: { 'Content-Encoding': 'gzip' },
      },
      { kind: 'content-encoding bogus', body: valid, headers: { 'Content-Encoding': 'bogus' } },
    ];
    if (properties.length > 0) {
      bodies.push(
        { kind: 'every field null', body: objectJson(properties.map((key) => [key, 'null'])) },
        { kind: 'every field 12345', body: objectJson(properties.map((key) => [key, '12345'])) },
        { kind: 'every field []', body: objectJson(properties.map((key) => [key, '[]'])) },
        { kind: 'every field {}', body: objectJson(properties.map((key) => [key, '{}'])) },
        // Duplicate keys: the last one wins in JSON.parse.
        { kind: 'duplicate key → null', body: extend(`${JSON.stringify(properties[0])}:null`) },
      );
    }
    return bodies.map((sent) => ({ ...sent, url: path }));
  }

  /**
   * One field at a time replaced by a hostile value, the other required fields valid-ish (with
   * a new email where the operation creates something, so a value that passes validation
   * reaches the INSERT; with the caller's own email elsewhere, e.g. login).
   *
   * An anonymous caller of a secured operation is refused by the guard before any pipe reads
   * a field, so it gets only the whole-body (body parser level) cases: this keeps the run short.
   */
  function fieldBodies(operation: Operation, context: Context, values: Hostile[]): Sent[] {
    const schema = operation.body;
    if (!schema?.properties) return [];
    if (context.caller === 'anonymous' && operation.secured) return [];
    const path = buildPath(operation, context);
    const base = bodyEntries(schema, context, operation.creates ? 'fresh' : 'own', 'required');
    const sents: Sent[] = [];
    for (const field of Object.keys(schema.properties)) {
      const others = base.filter(([key]) => key !== field);
      for (const value of values) {
        sents.push({
          kind: `body.${field} = ${value.kind}`,
          url: path,
          body: objectJson([...others, [field, value.raw]]),
        });
      }
    }
    return sents;
  }

  /**
   * Free-form object fields (`additionalProperties: true`, e.g. a task's `payload`) declare no
   * keys, so the document cannot say what goes inside. The keys tried here are the ones API.md
   * documents for task payloads (`from`/`to` dates, `csv`); each is tried with every value a
   * sibling string field lists (enum, example, or names in its description, e.g. task types).
   */
  function freeFormBodies(operation: Operation, context: Context): Sent[] {
    const schema = operation.body;
    if (!schema?.properties) return [];
    if (context.caller === 'anonymous' && operation.secured) return [];
    const path = buildPath(operation, context);
    const entries = Object.entries(schema.properties).map(
      ([key, value]) => [key, resolve(value)] as const,
    );
    const freeForm = entries.filter(
      ([, value]) => value.type === 'object' && !value.properties && value.additionalProperties,
    );
    const discriminators = entries.filter(([, value]) => value.type === 'string');
    const payloads: Hostile[] = [
      { kind: '{}', raw: '{}' },
      { kind: 'unknown key', raw: '{"fuzzUnknown":1}' },
      { kind: 'from/to null', raw: '{"from":null,"to":null}' },
      { kind: 'from/to 1e400', raw: '{"from":1e400,"to":-1e400}' },
      { kind: 'from/to numbers', raw: '{"from":1e308,"to":-1}' },
      { kind: 'from/to NUL', raw: '{"from":"2026-01-01\\u0000","to":"\\u0000"}' },
      { kind: 'from/to objects', raw: '{"from":{},"to":[]}' },
      { kind: 'from/to inverted', raw: '{"from":"2026-02-01","to":"2026-01-01"}' },
      ...HOSTILE_DATES.flatMap((date) => [
        { kind: `from/to ${date}`, raw: JSON.stringify({ from: date, to: date }) },
        { kind: `to ${date}`, raw: JSON.stringify({ from: '2026-01-01', to: date }) },
      ]),
      { kind: 'csv null', raw: '{"csv":null}' },
      { kind: 'csv number', raw: '{"csv":1e400}' },
      { kind: 'csv NUL', raw: '{"csv":"\\u0000"}' },
      { kind: 'csv 10k', raw: JSON.stringify({ csv: 'a'.repeat(10_000) }) },
      { kind: 'csv array', raw: '{"csv":["email,name,password"]}' },
      {
        kind: 'csv NUL row',
        raw: JSON.stringify({
          csv: 'email,name,password\nfuzz\u0000@example.com,N\u0000,pass\u0000word-1',
        }),
      },
      {
        kind: 'csv bad role',
        raw: JSON.stringify({
          csv: `email,name,password,role\n${uniqueEmail()},N,password-1,root`,
        }),
      },
      {
        kind: 'csv odd quoting',
        raw: JSON.stringify({ csv: 'email,name,password\n"unterminated,x,y\n",,,,,,\n' }),
      },
    ];
    const sents: Sent[] = [];
    for (const [field] of freeForm) {
      const others = bodyEntries(schema, context, 'own', 'required').filter(
        ([key]) => key !== field,
      );
      for (const [discriminator, discriminatorSchema] of discriminators) {
        const candidates = new Set<unknown>([
          ...(discriminatorSchema.enum ?? []),
          ...(discriminatorSchema.example === undefined ? [] : [discriminatorSchema.example]),
          ...listedNames(discriminatorSchema),
        ]);
        for (const candidate of candidates) {
          for (const payload of payloads) {
            const body = objectJson([
              ...others.filter(([key]) => key !== discriminator),
              [discriminator, JSON.stringify(candidate)],
              [field, payload.raw],
            ]);
            sents.push({
              kind: `body.${discriminator}=${String(candidate)}, ${field} ${payload.kind}`,
              url: path,
              body,
            });
          }
        }
      }
    }
    return sents;
  }

  // ---------------------------------------------------------------- setup

  beforeAll(async () => {
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    api = new ApiClient(app);
    const response = await api.get('/docs-json');
    expect(response.status).toBe(200);
    doc = response.body as OpenApiDocument;
    operations = readOperations();

    // The suite's own admin (see the header comment), created by the seeded ADMIN.
    const seeded = await api.loginAdmin();
    const email = uniqueEmail('fuzz-admin');
    const created = await api.send(
      'post',
      '/api/v1/users',
      { email, password: PASSWORD, name: 'Fuzz Admin', role: 'admin' },
      seeded.accessToken,
    );
    expect(created.status).toBe(201);
    adminAccount = { email, id: (created.body as { id: string }).id };

    // A real task to point `/tasks/{id}` at (queued; this suite runs no worker).
    const admin = await login(email);
    const task = await api.send(
      'post',
      '/api/v1/tasks',
      { type: 'users.export', payload: {} },
      admin.accessToken,
    );
    taskId = task.status === 202 ? (task.body as { id: string }).id : randomUUID();
  });

  afterAll(async () => {
    if (process.env.FUZZ_REPORT)
      writeFileSync(
        process.env.FUZZ_REPORT,
        JSON.stringify(
          { requests: requestCount, succeeded: [...succeeded], failures: allFailures },
          null,
          1,
        ),
      );
    await app?.close();
  });

  // ---------------------------------------------------------------- tests

  it('the served document lists operations to walk', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(operations.length).toBeGreaterThanOrEqual(10);
    const routes = operations.map((o) => `${o.method.toUpperCase()} ${o.template}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/register',
        'PATCH /api/v1/users/me',
        'GET /api/v1/users',
        'DELETE /api/v1/users/{id}',
      ]),
    );
  });

  it('valid-ish requests (deeper code paths) never give a 5xx', async () => {
    const walking = walk('valid-ish requests', (operation, context) => {
      const path = withQuery(buildPath(operation, context), validQuery(operation, context));
      return emailModes(operation).map((emailMode) => ({
        kind: `valid-ish (${emailMode} email)`,
        url: path,
        body: validBody(operation, context, emailMode),
      }));
    });
    const error = await walking.then(
      () => undefined,
      (caught: Error) => caught,
    );
    // The generated values are good enough to get past validation: otherwise every other test
    // here would only ever exercise the ValidationPipe.
    const adminSuccesses = operations.filter((o) =>
      succeeded.has(`admin ${o.method.toUpperCase()} ${o.template}`),
    );
    expect(adminSuccesses.length).toBeGreaterThanOrEqual(operations.length * 0.6);
    expect([...succeeded]).toEqual(
      expect.arrayContaining([
        'anonymous POST /api/v1/auth/register',
        'user PATCH /api/v1/users/me',
        'admin POST /api/v1/users',
      ]),
    );
    if (error) throw error;
  }, 120_000);

  it('junk ids in path parameters', async () => {
    await walk(
      'path parameters',
      (operation, context) => {
        const body = validBody(operation, context);
        const sents: Sent[] = [];
        for (const parameter of operation.pathParams) {
          const realIds: Hostile[] = [
            ...Object.entries(context.ids).map(([segment, id]) => ({
              kind: `real ${segment} id`,
              raw: id,
            })),
            // The caller's own id only where it cannot change the caller (see the header).
            ...(operation.method === 'get' ? [{ kind: 'own user id', raw: context.userId }] : []),
          ];
          for (const value of [...junkIds(), ...realIds]) {
            sents.push({
              kind: `path ${parameter.name} = ${value.kind}`,
              url: buildPath(operation, context, { [parameter.name]: value.raw }),
              body,
            });
          }
        }
        return sents;
      },
      (operation) => operation.pathParams.length > 0,
    );
  }, 120_000);

  it('hostile and unknown query parameters, hostile header parameters', async () => {
    await walk('query and header parameters', (operation, context) => {
      const path = buildPath(operation, context);
      const body = validBody(operation, context);
      const sents: Sent[] = [];
      for (const parameter of operation.queryParams) {
        const name = encodeURIComponent(parameter.name);
        for (const value of hostileQueryValues())
          sents.push({
            kind: `?${parameter.name}=${value.kind}`,
            url: `${path}?${name}=${value.raw}`,
            body,
          });
        for (const value of structuralQueries(name))
          sents.push({
            kind: `?${parameter.name} ${value.kind}`,
            url: `${path}?${value.raw}`,
            body,
          });
      }
      const valid = validQuery(operation, context);
      for (const value of unknownQueries()) {
        sents.push({ kind: `query ${value.kind}`, url: `${path}?${value.raw}`, body });
        if (valid)
          sents.push({
            kind: `valid query + ${value.kind}`,
            url: `${path}?${valid}&${value.raw}`,
            body,
          });
      }
      for (const parameter of operation.headerParams) {
        for (const value of hostileHeaderValues())
          sents.push({
            kind: `header ${parameter.name}: ${value.kind}`,
            url: path,
            body,
            headers: { [parameter.name]: value.raw },
          });
      }
      return sents;
    });
  }, 120_000);

  it('hostile request bodies: wrong types, null, NUL, huge strings and numbers, dates, extras', async () => {
    await walk('request bodies', (operation, context) => [
      ...wholeBodies(operation, context),
      ...fieldBodies(operation, context, hostileBodyValues()),
      ...freeFormBodies(operation, context),
    ]);
  }, 120_000);

  it('deeply nested JSON bodies', async () => {
    await walk('deeply nested JSON', (operation, context) => {
      const path = buildPath(operation, context);
      const valid = validBody(operation, context) ?? '{}';
      const extend = (extra: string) =>
        valid === '{}' ? `{${extra}}` : `${valid.slice(0, -1)},${extra}}`;
      return [
        ...deepValues().flatMap((value) => [
          { kind: `body = ${value.kind}`, url: path, body: value.raw },
          {
            kind: `valid + unknown property ${value.kind}`,
            url: path,
            body: extend(`"fuzz":${value.raw}`),
          },
        ]),
        ...fieldBodies(operation, context, deepValues()),
        // Deep but small: 1,000 levels, well inside any sane parser's limits.
        { kind: 'body = object nested 1,000 deep', url: path, body: nestedObjectJson(1_000) },
      ];
    });
  }, 120_000);

  it('forged and malformed Authorization headers on secured operations', async () => {
    const realToken = (await login(adminAccount.email)).accessToken;
    await walk(
      'forged authorization',
      (operation, context) => {
        const url = withQuery(buildPath(operation, context), validQuery(operation, context));
        const body = validBody(operation, context);
        return forgedAuthorizations(realToken).map((value) => ({
          kind: `Authorization ${value.kind}`,
          url,
          body,
          headers: { Authorization: value.raw },
        }));
      },
      (operation) => operation.secured,
    );
  }, 120_000);

  it('URLs longer than the server accepts (200,000 characters) are refused as problem+json', async () => {
    const huge = 'a'.repeat(200_000);
    await walk(
      'oversized URLs',
      (operation, context) => {
        const path = buildPath(operation, context);
        const sents: Sent[] = [{ kind: 'query value 200k', url: `${path}?fuzz=${huge}` }];
        for (const parameter of operation.pathParams)
          sents.push({
            kind: `path ${parameter.name} 200k`,
            url: buildPath(operation, context, { [parameter.name]: huge }),
          });
        return sents;
      },
      (operation) => operation.method === 'get',
    );
  }, 120_000);
});

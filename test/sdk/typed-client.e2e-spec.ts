import type { NestExpressApplication } from '@nestjs/platform-express';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import {
  bearerAuth,
  createGirderClient,
  type components,
  type GirderClient,
  type Problem,
  type ProblemCode,
} from '../../sdk';
import { ADMIN, uniqueEmail } from '../support/api-client';
import { createApiApp } from '../support/test-app';

type Task = components['schemas']['TaskDto'];
type TaskStatus = Task['status'];

/** Every status the document declares: a missing or unknown one does not compile. */
const TASK_STATUSES: Record<TaskStatus, true> = {
  queued: true,
  running: true,
  succeeded: true,
  failed: true,
  cancelled: true,
};

/** A task is a union discriminated by `type`: checking it narrows `result` to that type's. */
function exportedRows(task: Task): number | null {
  return task.type === 'users.export' && task.result !== null ? task.result.rows : null;
}

const ROOT = resolve(__dirname, '../..');
/** Written by `npm run sdk` (scripts/sdk/generate.ts), checked in. */
const SDK_TYPES_FILE = 'sdk/girder-api.d.ts';

/**
 * Runs scripts/sdk/generate.ts (what `npm run sdk` runs) on a document. In a child process:
 * openapi-typescript's CommonJS build requires ESM-only packages (parse-json, supports-color,
 * change-case), which Node >= 20.19 loads but Jest's module loader (CJS mode) only does on
 * Node >= 24.9.
 */
async function generateTypes(documentJson: string): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'girder-sdk-'));
  try {
    const documentFile = join(folder, 'openapi.json');
    writeFileSync(documentFile, documentJson);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '-r',
        require.resolve('ts-node/register/transpile-only'),
        'scripts/sdk/generate.ts',
        documentFile,
        '-',
      ],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Never called: each line must NOT compile. If the document stops describing one of these
 * mistakes, `@ts-expect-error` becomes unused and `tsc` (and ts-jest) fail.
 */
function mistakesTheTypesCatch(client: GirderClient, problem: Problem) {
  return [
    // @ts-expect-error users.export takes an empty payload: `csv` belongs to users.import
    client.POST('/api/v1/tasks', { body: { type: 'users.export', payload: { csv: 'x' } } }),
    // @ts-expect-error users.import needs `csv` in its payload
    client.POST('/api/v1/tasks', { body: { type: 'users.import', payload: {} } }),
    // @ts-expect-error email.welcome is system only: not a submittable type
    client.POST('/api/v1/tasks', { body: { type: 'email.welcome', payload: {} } }),
    // @ts-expect-error login needs a password
    client.POST('/api/v1/auth/login', { body: { email: 'a@b.c' } }),
    // @ts-expect-error a role is 'user' or 'admin'
    client.GET('/api/v1/users', { params: { query: { role: 'root' } } }),
    // @ts-expect-error getTask needs its path parameter
    client.GET('/api/v1/tasks/{id}', { params: { query: { waitMs: 10 } } }),
    // @ts-expect-error no such route
    client.GET('/api/v1/nope', {}),
    // @ts-expect-error not a ProblemCode: comparing with a typo does not compile
    problem.code === 'EMAIL_TAKN',
  ];
}

describe('the typed client (sdk/)', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let anonymous: GirderClient;

  beforeAll(async () => {
    app = await createApiApp();
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
    anonymous = createGirderClient(baseUrl);
  });

  afterAll(async () => {
    await app?.close();
  });

  it(`${SDK_TYPES_FILE} is what npm run sdk generates from the live /docs-json`, async () => {
    const response = await request(app.getHttpServer()).get('/docs-json').expect(200);
    const generated = await generateTypes(response.text);
    const checkedIn = readFileSync(join(ROOT, SDK_TYPES_FILE), 'utf8');
    if (generated !== checkedIn) {
      const want = generated.split('\n');
      const have = checkedIn.split('\n');
      let line = 0;
      while (want[line] === have[line]) line += 1;
      throw new Error(
        `${SDK_TYPES_FILE} is out of date with the API's OpenAPI document: run npm run sdk and commit the result.\n` +
          `First difference at line ${line + 1}:\n  generated: ${want[line]}\n  checked in: ${have[line]}`,
      );
    }
    expect(mistakesTheTypesCatch).toBeInstanceOf(Function);
  });

  describe('a user and an admin, with no casts', () => {
    const user = { email: uniqueEmail('sdk'), password: 'correct-horse-battery', name: 'Sdk User' };
    let userClient: GirderClient;
    let adminClient: GirderClient;

    it('registers, logs in and reads /users/me', async () => {
      const registered = await anonymous.POST('/api/v1/auth/register', { body: user });
      if (registered.error) throw new Error(registered.error.detail);
      expect(registered.response.status).toBe(201);
      expect(registered.data.user.email).toBe(user.email);
      expect(registered.data.tokenType).toBe('Bearer');

      const body = { email: user.email, password: user.password };
      const { data, error } = await anonymous.POST('/api/v1/auth/login', { body });
      if (error) throw new Error(error.detail);
      expect(data.accessToken).toEqual(expect.any(String));
      expect(data.expiresIn).toBeGreaterThan(0);

      userClient = createGirderClient(baseUrl);
      userClient.use(bearerAuth(data.accessToken));
      const me = await userClient.GET('/api/v1/users/me');
      if (me.error) throw new Error(me.error.detail);
      expect(me.data).toMatchObject({ email: user.email, name: user.name, role: 'user' });
      expect(me.data.id).toBe(data.user.id);
    });

    it('as the admin, submits users.export and waits for it with ?waitMs=', async () => {
      const login = await anonymous.POST('/api/v1/auth/login', { body: ADMIN });
      if (login.error) throw new Error(login.error.detail);
      let token: string | undefined = login.data.accessToken;
      adminClient = createGirderClient(baseUrl);
      adminClient.use(bearerAuth(() => token));

      const submitted = await adminClient.POST('/api/v1/tasks', {
        body: { type: 'users.export', payload: {} },
      });
      if (submitted.error) throw new Error(submitted.error.detail);
      expect(submitted.response.status).toBe(202);
      expect(submitted.data.type).toBe('users.export');
      expect(submitted.response.headers.get('Location')).toContain(submitted.data.id);

      // No worker runs here (though another suite's might take the job): whatever the state,
      // the call succeeds after at most waitMs and the status is one the document declares.
      const waited = await adminClient.GET('/api/v1/tasks/{id}', {
        params: { path: { id: submitted.data.id }, query: { waitMs: 300 } },
      });
      if (waited.error) throw new Error(waited.error.detail);
      expect(waited.response.status).toBe(200);
      expect(waited.data.id).toBe(submitted.data.id);
      expect(Object.keys(TASK_STATUSES)).toContain(waited.data.status);
      expect(waited.data.progress).toBeGreaterThanOrEqual(0);
      if (waited.data.status === 'succeeded') expect(exportedRows(waited.data)).toBeGreaterThan(0);
      else expect(exportedRows(waited.data)).toBeNull();

      // The middleware reads the token on every request: without one, the API refuses.
      token = undefined;
      const refused = await adminClient.GET('/api/v1/tasks/{id}', {
        params: { path: { id: submitted.data.id } },
      });
      expect(refused.response.status).toBe(401);
      token = login.data.accessToken;
    });

    it('pages through admins with nextCursor until it is null', async () => {
      const created = await adminClient.POST('/api/v1/users', {
        body: {
          email: uniqueEmail('sdk-admin'),
          password: 'correct-horse-battery',
          name: 'Sdk Admin',
          role: 'admin',
        },
      });
      if (created.error) throw new Error(created.error.detail);
      expect(created.data.role).toBe('admin');

      const seen: string[] = [];
      let pages = 0;
      let cursor: string | undefined;
      do {
        const { data, error } = await adminClient.GET('/api/v1/users', {
          params: { query: { role: 'admin', limit: 1, cursor } },
        });
        if (error) throw new Error(error.detail);
        pages += 1;
        expect(data.items.length).toBeLessThanOrEqual(1);
        seen.push(...data.items.map((item) => item.email));
        cursor = data.nextCursor ?? undefined;
      } while (cursor !== undefined && pages < 1000);

      expect(cursor).toBeUndefined();
      expect(pages).toBeGreaterThanOrEqual(2);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining([ADMIN.email, created.data.email]));
    });

    it('narrows failures to a Problem with a typed code', async () => {
      const again = await anonymous.POST('/api/v1/auth/register', { body: user });
      if (!again.error) throw new Error(`a second registration answered ${again.response.status}`);
      const code: ProblemCode = again.error.code;
      expect(code).toBe('EMAIL_TAKEN');
      expect(again.error.code === 'EMAIL_TAKEN').toBe(true);
      expect(again.response.status).toBe(409);
      expect(again.error.status).toBe(409);
      expect(again.response.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
      expect(again.data).toBeUndefined();

      const { data, error, response } = await anonymous.GET('/api/v1/users/me');
      expect(data).toBeUndefined();
      expect(error?.code).toBe('UNAUTHENTICATED');
      expect(response.status).toBe(401);
      if (error) {
        // A Problem is the same shape on every route: requestId ties it to the logs.
        expect(error.requestId).toBe(response.headers.get('X-Request-ID'));
        expect(error.instance).toBe('/api/v1/users/me');
      }
    });
  });
});

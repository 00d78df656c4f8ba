import type { Names } from '../names';

const taskImports = `import type { INestApplicationContext } from '@nestjs/common';
import { createWorkerApp } from '../support/worker-app';
`;

const taskEnv = (n: Names): string => `
/** Queues of this file only: other suites' workers never take these jobs. */
const ENV = { REDIS_KEY_PREFIX: \`\${process.env.REDIS_KEY_PREFIX}_${n.table}\` };
`;

const taskTest = (n: Names): string => `
  it('${n.kebab}.summary: admins submit it (members 403), the worker runs it', async () => {
    await api.send('post', '/api/v1/${n.kebab}', { name: 'Counted' }, admin.accessToken);
    const task = { type: '${n.kebab}.summary', payload: {} };
    expect((await api.send('post', '/api/v1/tasks', task, member.accessToken)).status).toBe(403);
    const submitted = await api.send('post', '/api/v1/tasks', task, admin.accessToken);
    expect(submitted.status).toBe(202);
    const done = await api.get(\`/api/v1/tasks/\${submitted.body.id}?waitMs=20000\`, admin.accessToken);
    expect(done.body.status).toBe('succeeded');
    expect(done.body.result.count).toBeGreaterThan(0);
  });
`;

export const e2eSpec = (
  n: Names,
  withTask: boolean,
): string => `import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiClient, type SessionBody } from '../support/api-client';
import { createApiApp${withTask ? ', withEnv' : ''} } from '../support/test-app';
${withTask ? taskImports : ''}
const BASE = '/api/v1/${n.kebab}';
${withTask ? taskEnv(n) : ''}
type Method = 'get' | 'post' | 'patch' | 'delete';

describe('${n.kebab} (/api/v1/${n.kebab})', () => {
  let app: INestApplication;
  ${withTask ? 'let worker: INestApplicationContext;\n  ' : ''}let api: ApiClient;
  let admin: SessionBody;
  let member: SessionBody;

  const call = (method: Method, path: string, body?: object, token?: string) =>
    method === 'get' ? api.get(path, token) : api.send(method, path, body, token);

  beforeAll(async () => {
    app = await ${withTask ? 'withEnv(ENV, () => createApiApp())' : 'createApiApp()'};
    ${withTask ? 'worker = await withEnv(ENV, () => createWorkerApp());\n    ' : ''}api = new ApiClient(app);
    admin = await api.loginAdmin();
    member = await api.register();
  });
  afterAll(async () => {
    ${withTask ? 'await worker?.close();\n    ' : ''}await app?.close();
  });

  it('admins create, read, list, update and delete', async () => {
    const created = await api.send('post', BASE, { name: 'First' }, admin.accessToken);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), name: 'First' });
    const id: string = created.body.id;

    expect((await api.get(\`\${BASE}/\${id}\`, member.accessToken)).body).toEqual(created.body);
    const listed = await api.get(BASE, member.accessToken);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);

    const updated = await api.send('patch', \`\${BASE}/\${id}\`, { name: 'Renamed' }, admin.accessToken);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'Renamed' });

    expect((await api.send('delete', \`\${BASE}/\${id}\`, undefined, admin.accessToken)).status).toBe(204);
    expect((await api.get(\`\${BASE}/\${id}\`, admin.accessToken)).status).toBe(404);
  });

  it('pages newest first with nextCursor', async () => {
    for (const name of ['Page 1', 'Page 2', 'Page 3']) {
      await api.send('post', BASE, { name }, admin.accessToken);
    }
    const first = await api.get(\`\${BASE}?limit=2\`, member.accessToken);
    expect(first.body.items).toHaveLength(2);
    const next = await api.get(\`\${BASE}?limit=2&cursor=\${first.body.nextCursor}\`, member.accessToken);
    const names = [...first.body.items, ...next.body.items].map((item: { name: string }) => item.name);
    // Rows created in the same millisecond are ordered by id, so compare as a set.
    expect(names.sort()).toEqual(['Page 1', 'Page 2', 'Page 3']);
    expect(next.body.nextCursor).toBeNull();
    expect((await api.get(\`\${BASE}?cursor=not-a-cursor\`, member.accessToken)).status).toBe(400);
  });

  it('anonymous callers get 401 on every route; members get 403 FORBIDDEN on writes', async () => {
    const id = randomUUID();
    const routes: Array<[Method, string, object | undefined]> = [
      ['get', BASE, undefined],
      ['get', \`\${BASE}/\${id}\`, undefined],
      ['post', BASE, { name: 'Nope' }],
      ['patch', \`\${BASE}/\${id}\`, { name: 'Nope' }],
      ['delete', \`\${BASE}/\${id}\`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const response = await call(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 });
    }
    for (const [method, path, body] of routes.filter(([method]) => method !== 'get')) {
      const response = await call(method, path, body, member.accessToken);
      expect({ method, status: response.status, code: response.body.code }).toEqual({
        method,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
  });

  it('an invalid body is 400 VALIDATION_FAILED with per-field errors', async () => {
    const missing = await api.send('post', BASE, {}, admin.accessToken);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_FAILED');
    expect(missing.body.errors[0].field).toBe('name');
    expect((await api.send('post', BASE, { name: '' }, admin.accessToken)).status).toBe(400);
    const unknown = await api.send('post', BASE, { name: 'X', extra: 1 }, admin.accessToken);
    expect(unknown.status).toBe(400);
  });

  it('a malformed id is 400 BAD_REQUEST and an unknown id 404 NOT_FOUND', async () => {
    for (const method of ['get', 'patch', 'delete'] as const) {
      const body = method === 'patch' ? { name: 'X' } : undefined;
      const malformed = await call(method, \`\${BASE}/not-a-uuid\`, body, admin.accessToken);
      expect({ method, status: malformed.status, code: malformed.body.code }).toEqual({
        method,
        status: 400,
        code: 'BAD_REQUEST',
      });
      const absent = await call(method, \`\${BASE}/\${randomUUID()}\`, body, admin.accessToken);
      expect({ method, status: absent.status, code: absent.body.code }).toEqual({
        method,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
  });
${withTask ? taskTest(n) : ''}});
`;

import { request as httpRequest } from 'node:http';
import { AppProcess, freePort } from '../support/app-process';
import { ADMIN } from '../support/api-client';

interface Reply {
  status: number;
  body: { code?: string; accessToken?: string };
}

/** One request on a new TCP connection, so the cluster primary hands it to the next process. */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: object,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: payload ? { ...headers, 'Content-Type': 'application/json' } : headers,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The pids that logged the given request ids (pino lines carry `pid` and `requestId`). */
function servingPids(api: AppProcess, requestIds: string[]): Set<number> {
  const pids = new Set<number>();
  for (const line of api.text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: number; requestId?: string; msg?: string };
    if (entry.requestId && requestIds.includes(entry.requestId) && entry.pid) pids.add(entry.pid);
  }
  return pids;
}

describe('API_WORKERS=2: several API processes on one port (node:cluster)', () => {
  let api: AppProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    api = new AppProcess('api', { PORT: String(port), API_WORKERS: '2' });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    // The port answers as soon as one process listens; wait for both.
    const deadline = Date.now() + 60_000;
    while (api.text.split('API listening').length - 1 < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(() => api.stop());

  const probe = async (label: string, token: string, count = 8) => {
    const ids = Array.from({ length: count }, (_, i) => `${label}-${i}`);
    const replies: Reply[] = [];
    for (const id of ids) {
      replies.push(
        await call(port, 'GET', '/api/v1/users/me', {
          Authorization: `Bearer ${token}`,
          'X-Request-ID': id,
        }),
      );
    }
    // Give the log lines a moment to arrive through the pipes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { replies, pids: servingPids(api, ids) };
  };

  it('a token revoked through one process is refused by the other', async () => {
    const login = await call(port, 'POST', '/api/v1/auth/login', {}, ADMIN);
    expect(login.status).toBe(200);
    const token = login.body.accessToken!;

    const before = await probe('before-logout', token);
    expect(before.replies.map((reply) => reply.status)).toEqual(Array(8).fill(200));
    expect(before.pids.size).toBe(2);

    const logout = await call(port, 'POST', '/api/v1/auth/logout', {
      Authorization: `Bearer ${token}`,
    });
    expect(logout.status).toBe(204);

    const after = await probe('after-logout', token);
    expect(after.replies.map((reply) => reply.status)).toEqual(Array(8).fill(401));
    expect(after.replies.every((reply) => reply.body.code === 'TOKEN_REVOKED')).toBe(true);
    expect(after.pids.size).toBe(2);
  });

  it('a crashed process is replaced, and SIGTERM drains them all and exits 0', async () => {
    const login = await call(port, 'POST', '/api/v1/auth/login', {}, ADMIN);
    const { pids } = await probe('before-crash', login.body.accessToken!);
    const [victim] = [...pids];
    process.kill(victim, 'SIGKILL');

    const deadline = Date.now() + 45_000;
    let replaced = false;
    while (!replaced && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      replaced =
        api.text.includes('starting a replacement') &&
        (await probe(`after-crash-${Date.now()}`, login.body.accessToken!, 6)).pids.size === 2;
    }
    expect(replaced).toBe(true);

    api.kill('SIGTERM');
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(api.text).toContain('Shutdown complete');
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  });
});

import { AppProcess, freePort } from '../support/app-process';
import { ADMIN } from '../support/api-client';
import { TcpProxy } from '../support/tcp-proxy';
import { reportCounts } from './fault-report';
import { FaultWorld } from './fault-world';

/**
 * An API process killed (SIGKILL) after its transactions committed task rows and before it
 * could hand them to the queue (its Redis was cut at that moment): the worker's sweep finds
 * the rows and every task still runs, once.
 */
describe('fault: crash between commit and enqueue', () => {
  const world = new FaultWorld();
  let redisProxy: TcpProxy | undefined;
  let api: AppProcess | undefined;

  beforeAll(async () => {
    await world.start({ worker: true });
  });
  afterAll(async () => {
    await api?.stop();
    await redisProxy?.stop();
    await world.stop();
  });

  it('every task committed by the killed process runs exactly once', async () => {
    redisProxy = new TcpProxy('127.0.0.1', world.redis.port);
    await redisProxy.start();
    const port = await freePort();
    api = new AppProcess('api', {
      PORT: String(port),
      API_WORKERS: '1',
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}/0`,
      REDIS_KEY_PREFIX: world.env.REDIS_KEY_PREFIX,
      LOG_LEVEL: 'warn',
    });
    await api.waitFor(`http://127.0.0.1:${port}/health/ready`);
    const base = `http://127.0.0.1:${port}/api/v1`;
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };

    await redisProxy.cut();
    const ids: string[] = [];
    const statuses: number[] = [];
    for (let n = 0; n < 10; n += 1) {
      const reply = await fetch(`${base}/tasks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({
          type: 'reports.signups',
          payload: { from: '2026-01-01', to: '2026-01-0' + ((n % 9) + 1) },
        }),
      });
      statuses.push(reply.status);
      if (reply.status === 202) ids.push(((await reply.json()) as { id: string }).id);
    }
    api.kill('SIGKILL');
    await api.exited;

    const deadline = Date.now() + 60_000;
    let rows: Array<{ id: string; status: string; attempts: number }> = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rows = await world.database.query(
        'SELECT id, status, attempts FROM tasks WHERE id = ANY($1::uuid[])',
        [ids],
      );
    } while (rows.some((row) => row.status !== 'succeeded') && Date.now() < deadline);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    rows = await world.database.query(
      'SELECT id, status, attempts FROM tasks WHERE id = ANY($1::uuid[])',
      [ids],
    );

    const lost = ids.length - rows.filter((row) => row.status === 'succeeded').length;
    const ranTwice = rows.filter((row) => row.attempts > 1).length;
    reportCounts('crash-between-commit-and-enqueue', {
      accepted: ids.length,
      refused: statuses.filter((status) => status !== 202).length,
      tasksLost: lost,
      tasksRunTwice: ranTwice,
    });
    expect(statuses).toEqual(Array(10).fill(202));
    expect(lost).toBe(0);
    expect(ranTwice).toBe(0);
  });
});

import { AppProcess, freePort } from '../support/app-process';
import { bulkImportCsv } from '../support/bulk-import';
import { reportCounts } from './fault-report';
import { FaultWorld } from './fault-world';

const ROWS = 10_000;

/** kill -9 of the worker during a 10,000-row import: every row is created exactly once. */
describe('fault: worker killed during a 10,000-row import', () => {
  const world = new FaultWorld({ LOG_LEVEL: 'warn' });
  const workers: AppProcess[] = [];

  const startWorker = async (): Promise<AppProcess> => {
    const port = await freePort();
    const worker = new AppProcess('worker', {
      ...world.env,
      DATABASE_URL: process.env.DATABASE_URL!,
      WORKER_HEALTH_PORT: String(port),
    });
    workers.push(worker);
    await worker.waitFor(`http://127.0.0.1:${port}/health/ready`);
    return worker;
  };

  beforeAll(() => world.start({ api: true, worker: false }));
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await world.stop();
  });

  it('the import resumes from its checkpoint in a new worker and creates every row once', async () => {
    const api = world.api!;
    const admin = await api.loginAdmin();
    const tag = `faultkill${Date.now()}`;
    const { csv } = bulkImportCsv(tag, ROWS);
    const first = await startWorker();
    const id = await api.submitAccepted('users.import', { csv }, admin.accessToken);
    const progressOf = async () =>
      (await world.database.query('SELECT progress, status FROM tasks WHERE id = $1', [id]))[0] as {
        progress: number;
        status: string;
      };

    const deadline = Date.now() + 120_000;
    let state = await progressOf();
    while (state.progress < 30 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await progressOf();
    }
    const killedAt = state.progress;
    first.kill('SIGKILL');
    await first.exited;
    await startWorker();

    const end = Date.now() + 240_000;
    let row: {
      status: string;
      result: { created: number; skipped: number; errors: unknown[] } | null;
    };
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      [row] = await world.database.query('SELECT status, result FROM tasks WHERE id = $1', [id]);
    } while (!['succeeded', 'failed'].includes(row.status) && Date.now() < end);
    const [{ created, distinct }] = await world.database.query(
      `SELECT count(*)::int AS created, count(DISTINCT email)::int AS distinct
         FROM users WHERE email LIKE $1`,
      [`${tag}-%`],
    );

    reportCounts('worker-killed-mid-import', {
      rows: ROWS,
      killedAtProgress: `${killedAt}%`,
      taskStatus: row.status,
      rowsCreated: created,
      rowsMissing: ROWS - created,
      rowsDuplicated: created - distinct,
      reportedCreated: row.result?.created ?? -1,
      reportedSkipped: row.result?.skipped ?? -1,
    });
    expect(killedAt).toBeGreaterThanOrEqual(30);
    expect(killedAt).toBeLessThan(100);
    expect(row).toMatchObject({
      status: 'succeeded',
      result: { created: ROWS, skipped: 0, errors: [] },
    });
    expect(created).toBe(ROWS);
    expect(distinct).toBe(ROWS);
  }, 420_000);
});

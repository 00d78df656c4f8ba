import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiClient, type SessionBody } from '../support/api-client';
import { AppProcess, freePort } from '../support/app-process';
import { bulkImportCsv } from '../support/bulk-import';
import { createApiApp, withEnv } from '../support/test-app';

/** Queues of this file only. Workers are real processes, so they can be killed. */
const ENV = {
  REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_resilience`,
  WORKER_CONCURRENCY: '2',
  LOG_LEVEL: 'warn',
};

describe('worker resilience (real worker processes)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let admin: SessionBody;
  const workers: AppProcess[] = [];

  const startWorker = async (): Promise<{ worker: AppProcess; port: number }> => {
    const port = await freePort();
    const worker = new AppProcess('worker', { ...ENV, WORKER_HEALTH_PORT: String(port) });
    workers.push(worker);
    await worker.waitFor(`http://127.0.0.1:${port}/health/ready`);
    return { worker, port };
  };
  const task = async (id: string, waitMs = 0) =>
    (await api.get(`/api/v1/tasks/${id}?waitMs=${waitMs}`, admin.accessToken)).body;

  beforeAll(async () => {
    app = await withEnv(ENV, () => createApiApp());
    api = new ApiClient(app);
    admin = await api.loginAdmin();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await app?.close();
  });

  const submitImport = (csv: string): Promise<string> =>
    api.submitAccepted('users.import', { csv }, admin.accessToken);

  it('a worker killed with SIGKILL mid-import loses nothing: the job is taken up again and every row is created once', async () => {
    const { worker } = await startWorker();
    const { csv, emails } = bulkImportCsv(`kill${Date.now()}`, 2_000);
    const id = await submitImport(csv);

    const deadline = Date.now() + 60_000;
    let progress = 0;
    while (progress < 20 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      progress = (await task(id)).progress;
    }
    expect(progress).toBeGreaterThanOrEqual(20);
    worker.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    const orphaned = await task(id);
    expect(orphaned.status).toBe('running');
    expect(orphaned.progress).toBeLessThan(100);

    await startWorker();
    const finished = await task(id, 30_000);
    const final = finished.status === 'succeeded' ? finished : await task(id, 30_000);
    expect(final).toMatchObject({
      status: 'succeeded',
      result: { created: 2_000, skipped: 0, errors: [] },
    });
    const [{ n }] = await app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM users WHERE email = ANY($1)', [emails]);
    expect(n).toBe(2_000);
  });

  it('while a 10,000-row import runs, the worker keeps answering /health/live', async () => {
    const { port } = await startWorker();
    const { csv } = bulkImportCsv(`big${Date.now()}`, 10_000);
    const id = await submitImport(csv);

    let probes = 0;
    let status = 'queued';
    const deadline = Date.now() + 170_000;
    while (!['succeeded', 'failed'].includes(status) && Date.now() < deadline) {
      const live = await fetch(`http://127.0.0.1:${port}/health/live`, {
        signal: AbortSignal.timeout(2_000),
      });
      expect(live.status).toBe(200);
      probes += 1;
      status = (await task(id)).status;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const final = await task(id);
    expect(final).toMatchObject({
      status: 'succeeded',
      result: { created: 10_000, skipped: 0, errors: [] },
    });
    expect(probes).toBeGreaterThan(5);
  }, 180_000);
});

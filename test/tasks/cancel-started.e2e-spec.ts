import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ApiClient, type SessionBody } from '../support/api-client';
import { createApiApp, withEnv } from '../support/test-app';
import { createWorkerApp } from '../support/worker-app';
import { TestTaskTypesModule } from './test-task-types';

/**
 * A run records no `running` state until TASK_RUNNING_AFTER_MS (here longer than any run of
 * this file), so a cancel cannot tell from the task row alone whether the job has started: it
 * asks the queue. One worker slot: the second task waits behind the first.
 */
const ENV = {
  REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}_cancel_started`,
  WORKER_CONCURRENCY: '1',
  TASK_RUNNING_AFTER_MS: '60000',
};

interface TaskBody {
  id: string;
  status: string;
  attempts: number;
  result: Record<string, unknown> | null;
  startedAt: string | null;
}

describe('cancelling a task whose run has started but is not recorded as running', () => {
  let app: INestApplication;
  let worker: INestApplicationContext;
  let api: ApiClient;
  let admin: SessionBody;

  beforeAll(async () => {
    app = await withEnv(ENV, () => createApiApp({ imports: [TestTaskTypesModule] }));
    worker = await withEnv(ENV, () => createWorkerApp([TestTaskTypesModule]));
    api = new ApiClient(app);
    admin = await api.loginAdmin();
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
  });

  const submit = async (ms: number) =>
    (
      await api.send(
        'post',
        '/api/v1/tasks',
        { type: 'test.slow', payload: { ms } },
        admin.accessToken,
      )
    ).body as TaskBody;
  const read = async (id: string) =>
    (await api.get(`/api/v1/tasks/${id}`, admin.accessToken)).body as TaskBody;

  it('is a 409 while a worker holds the job; the task waiting behind it is cancelled and never runs', async () => {
    const started = await submit(1_500);
    const waiting = await submit(0);
    const queue = app.get<Queue>(getQueueToken('reports'));
    const deadline = Date.now() + 10_000;
    while ((await queue.getJobState(started.id)) !== 'active') {
      if (Date.now() > deadline) throw new Error('the first job never became active');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Running in the worker, still queued in the record.
    expect((await read(started.id)).status).toBe('queued');

    const refused = await api.send(
      'delete',
      `/api/v1/tasks/${started.id}`,
      undefined,
      admin.accessToken,
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'CONFLICT',
      detail: 'The task is running: only queued tasks can be cancelled.',
    });
    const cancelled = await api.send(
      'delete',
      `/api/v1/tasks/${waiting.id}`,
      undefined,
      admin.accessToken,
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    const done = (await api.get(`/api/v1/tasks/${started.id}?waitMs=20000`, admin.accessToken))
      .body as TaskBody;
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { waited: 1_500 } });
    expect(done.startedAt).not.toBeNull();
    // The slot is free again: the cancelled task's job is gone, so it never ran.
    const probe = await submit(0);
    expect(
      (await api.get(`/api/v1/tasks/${probe.id}?waitMs=20000`, admin.accessToken)).body,
    ).toMatchObject({ status: 'succeeded' });
    expect(await read(waiting.id)).toMatchObject({
      status: 'cancelled',
      attempts: 0,
      startedAt: null,
    });
  });
});

import type { AppConfig } from '@girder/config';
import { queueSchema, selectQueueBackend } from '@girder/tasks';
import type { Queue, Worker } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * BullMQ's PostgreSQL backend when the database goes away and comes back, through a TCP proxy
 * the test cuts (the shared server is never touched); see libs/tasks/src/postgres-outages.ts.
 * The second case failed before those mends (a queue that first connected during the outage
 * failed every call for good). The first fails without the mend that reports a terminated
 * connection as a connection error (the worker then fetches again at once, in a loop that
 * freezes the process); test/faults/postgres-cut in PostgreSQL-only mode hung in 3 runs of 3
 * before the mends and passed 6 of 6 after. Runs in both modes (it needs PostgreSQL only).
 */
describe('the PostgreSQL queue backend through a database outage', () => {
  const prefix = `${process.env.REDIS_KEY_PREFIX}_outage_${randomBytes(3).toString('hex')}`;
  const target = new URL(process.env.DATABASE_URL!);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const database = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
  const closing: Array<{ close(): Promise<void> }> = [];

  function backend() {
    const url = new URL(process.env.DATABASE_URL!);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const settings: Record<string, unknown> = {
      DATABASE_URL: url.toString(),
      REDIS_URL: '',
      REDIS_KEY_PREFIX: prefix,
      WORKER_CONCURRENCY: 1,
    };
    const created = selectQueueBackend({ get: (key: string) => settings[key] } as AppConfig);
    closing.push(created);
    return created;
  }

  beforeAll(async () => {
    await database.initialize();
    await proxy.start();
  });
  afterAll(async () => {
    for (const each of closing.reverse()) await each.close().catch(() => undefined);
    await proxy.stop();
    await database.query(`DROP SCHEMA IF EXISTS "${queueSchema(prefix)}" CASCADE`);
    await database.destroy();
  });

  /** Resolves with the job's name once `worker` has run a job added to `queue`. */
  async function runsAJob(queue: Queue, worker: Worker, name: string): Promise<string> {
    const ran = new Promise<string>((resolve) =>
      worker.on('completed', (job) => job.name === name && resolve(job.name)),
    );
    await queue.add(name, {});
    return Promise.race([ran, sleep(20_000, 'not run within 20 s')]);
  }

  it('a worker waits while the database is away (no busy loop) and runs jobs again once it is back', async () => {
    const queues = backend();
    const queue = queues.createQueue('outage');
    let started = (): void => undefined;
    const worker = queues.createWorker(
      'outage',
      async (job) => {
        if (job.name !== 'in-flight') return;
        started();
        await sleep(300);
      },
      { concurrency: 1 },
    );
    closing.push(worker, queue);
    // And a worker on a queue that never had a job: it has only waited (LISTEN) so far.
    const idle = queues.createWorker('outage-idle', async () => undefined, { concurrency: 1 });
    closing.push(idle);
    queue.on('error', () => undefined);
    let errors = 0;
    worker.on('error', () => (errors += 1));
    idle.on('error', () => (errors += 1));
    expect(await runsAJob(queue, worker, 'before')).toBe('before');

    // Held, then dropped, while a job runs: the worker's queries finishing it and fetching the
    // next are in flight when the connections go ("Connection terminated unexpectedly"). New
    // connections are accepted and closed at once, as by a pooler in front of a database that
    // is down: every retry fails with "terminated" too, which BullMQ does not know as a
    // connection error (a refused connection it does know, so refusing would test nothing).
    const running = new Promise<void>((resolve) => (started = resolve));
    await queue.add('in-flight', {});
    await running;
    proxy.freeze();
    await sleep(600);
    proxy.hangUp();
    // The event loop stays free: timers fire on time while the worker fails to fetch.
    const cutAt = Date.now();
    await sleep(3_000);
    const late = Date.now() - cutAt - 3_000;
    await proxy.restore();

    expect(late).toBeLessThan(500);
    // Each worker's fetch fails about once a second (its retry delay), with the connections'
    // other queries: tens of errors (up to 35 seen on a busy CI machine), where a busy loop
    // makes thousands (11,801 in a run without the mend).
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(300);
    expect(await runsAJob(queue, worker, 'after')).toBe('after');
  }, 60_000);

  it('a queue first used while the database is away works once it is back', async () => {
    await proxy.cut();
    const queues = backend();
    const queue = queues.createQueue('late-start');
    closing.push(queue);
    queue.on('error', () => undefined);
    await expect(queue.add('while-away', {})).rejects.toThrow();
    await proxy.restore();

    const job = await queue.add('after', {});
    expect(await queue.getJobState(job.id!)).toBe('waiting');
  }, 60_000);
});

import type { AppConfig } from '@girder/config';
import { createRedisClient } from '@girder/redis';
import type { PostgresQueueBackend, Queue } from 'bullmq';
import { PostgresTaskBackend, queueSchema } from './postgres-task-backend';
import { selectQueueBackend } from './queue-backend.provider';
import { RedisTaskBackend } from './redis-task-backend';

jest.mock('@girder/redis', () => ({
  ...jest.requireActual('@girder/redis'),
  createRedisClient: jest.fn(),
}));

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/girder_unit';

function config(values: Record<string, unknown>): AppConfig {
  const all: Record<string, unknown> = {
    DATABASE_URL,
    REDIS_KEY_PREFIX: 'girder',
    WORKER_CONCURRENCY: 4,
    ...values,
  };
  return { get: (key: string) => all[key] } as unknown as AppConfig;
}

describe('selectQueueBackend (TasksModule’s QueueBackend provider)', () => {
  it('runs the queues on Redis when REDIS_URL is set', () => {
    const backend = selectQueueBackend(config({ REDIS_URL: 'redis://127.0.0.1:6379/0' }));
    expect(backend).toBeInstanceOf(RedisTaskBackend);
    expect(backend.name).toBe('Redis');
  });

  it('runs them on PostgreSQL alone when it is not', () => {
    const backend = selectQueueBackend(config({ REDIS_URL: undefined }));
    expect(backend).toBeInstanceOf(PostgresTaskBackend);
    expect(backend.name).toBe('PostgreSQL');
  });
});

describe('queueSchema', () => {
  it('is bullmq for the default deployment, bullmq_<prefix> for another', () => {
    expect(queueSchema('girder')).toBe('bullmq');
    expect(queueSchema('girder_test_0a1b2c3d_tasks')).toBe('bullmq_girder_test_0a1b2c3d_tasks');
  });

  it('turns any allowed prefix into a distinct identifier PostgreSQL takes', () => {
    const prefixes = ['a-b', 'a_b', 'A_b', 'x'.repeat(64), `${'x'.repeat(63)}y`, 'girder-mail'];
    const schemas = prefixes.map(queueSchema);
    expect(new Set(schemas).size).toBe(prefixes.length);
    for (const schema of schemas) expect(schema).toMatch(/^[a-z_][a-z0-9_]{0,62}$/);
  });
});

describe('PostgresTaskBackend', () => {
  let backend: PostgresTaskBackend;

  beforeEach(() => {
    backend = new PostgresTaskBackend(config({ REDIS_KEY_PREFIX: 'girder_unit' }));
  });
  afterEach(() => backend.close());

  it('connects to the app’s own database, in the deployment’s schema, migrating it if needed', () => {
    expect(backend.options(3).connection).toEqual({
      connectionString: DATABASE_URL,
      schema: 'bullmq_girder_unit',
      migrate: true,
      max: 3,
      application_name: 'girder-queues',
    });
  });

  it('gives the queues one shared connection, and each worker and queue-events its own', async () => {
    type Factory = (
      name: string,
      opts: object,
      options?: { blocking?: boolean; withBlockingConnection?: boolean },
    ) => PostgresQueueBackend;
    const factory = (backend as unknown as { factory: Factory }).factory;
    const opts = backend.options(2);

    const users = factory('users', opts);
    const reports = factory('reports', opts);
    const worker = factory('users', opts, { withBlockingConnection: true });
    const events = factory('users', opts, { blocking: true });

    expect(users.connection).toBe(reports.connection);
    expect(worker.connection).not.toBe(users.connection);
    expect(events.connection).not.toBe(worker.connection);
    // Nothing connected yet: closing ends the pools without a round trip.
    await Promise.all([worker.close(), events.close()]);
  });

  it('never reports data loss: the jobs live and die with the task records', async () => {
    await expect(backend.lostItsData()).resolves.toBe(false);
  });

  describe('with a queue', () => {
    const query = jest.fn();
    const waitUntilReady = jest.fn();
    const queue = {
      name: 'reports',
      waitUntilReady,
      backend: { connection: { pool: { query } } },
    } as unknown as Queue;

    beforeEach(() => {
      query.mockReset();
      waitUntilReady.mockReset().mockResolvedValue(undefined);
    });

    it('finds a batch of jobs in one query: missing ones are lost, failed ones carry their reason', async () => {
      query.mockResolvedValue({
        rows: [
          { id: 'waiting', state: 'waiting', failed_reason: null },
          {
            id: 'stalled',
            state: 'failed',
            failed_reason: 'job stalled more than allowable limit',
          },
        ],
      });

      const found = await backend.findJobs(queue, ['waiting', 'stalled', 'gone']);

      expect(query).toHaveBeenCalledTimes(1);
      expect(query.mock.calls[0][1]).toEqual(['reports', ['waiting', 'stalled', 'gone']]);
      expect(found).toEqual(
        new Map([
          ['waiting', {}],
          ['stalled', { failedReason: 'job stalled more than allowable limit' }],
        ]),
      );
    });

    it('asks nothing for no ids', async () => {
      expect((await backend.findJobs(queue, [])).size).toBe(0);
      expect(query).not.toHaveBeenCalled();
    });

    it('pings with a round trip through the queues’ pool', async () => {
      query.mockResolvedValue({ rows: [{}] });
      await backend.ping(queue);
      expect(query).toHaveBeenCalledWith('SELECT 1');
      query.mockRejectedValue(new Error('connect ECONNREFUSED'));
      await expect(backend.ping(queue)).rejects.toThrow('ECONNREFUSED');
    });

    it('is connected once ready, not when readiness failed or takes longer than asked', async () => {
      expect(await backend.isConnected(queue, 100)).toBe(true);
      waitUntilReady.mockRejectedValue(new Error('connect ECONNREFUSED'));
      expect(await backend.isConnected(queue, 100)).toBe(false);
      waitUntilReady.mockReturnValue(new Promise(() => undefined));
      expect(await backend.isConnected(queue, 10)).toBe(false);
    });
  });
});

/** The Redis the backend's own client reads: job hashes by key, and the epoch. */
class FakeRedis {
  readonly keys = new Map<string, Record<string, string>>();
  status = 'ready';
  on = jest.fn();
  quit = jest.fn().mockResolvedValue('OK');
  disconnect = jest.fn();
  exists = jest.fn(async (key: string) => (this.keys.has(key) ? 1 : 0));
  set = jest.fn(async (key: string, value: string, mode: string) => {
    if (mode === 'NX' && this.keys.has(key)) return null;
    this.keys.set(key, { value });
    return 'OK';
  });

  pipeline() {
    const replies: Array<[Error | null, unknown]> = [];
    const pipeline = {
      exists: (key: string) => {
        replies.push([null, this.keys.has(key) ? 1 : 0]);
        return pipeline;
      },
      hget: (key: string, field: string) => {
        replies.push([null, this.keys.get(key)?.[field] ?? null]);
        return pipeline;
      },
      exec: async () => replies,
    };
    return pipeline;
  }
}

describe('RedisTaskBackend', () => {
  let backend: RedisTaskBackend;
  let redis: FakeRedis;

  beforeEach(() => {
    redis = new FakeRedis();
    jest.mocked(createRedisClient).mockReturnValue(redis as never);
    backend = new RedisTaskBackend(config({ REDIS_URL: 'redis://127.0.0.1:6379/0' }));
  });
  afterEach(() => backend.close());

  it('keeps every queue key under <REDIS_KEY_PREFIX>:queue', () => {
    expect(backend.options()).toEqual({
      connection: { url: 'redis://127.0.0.1:6379/0', maxRetriesPerRequest: null },
      prefix: 'girder:queue',
    });
  });

  describe('data loss (the epoch key)', () => {
    it('is not assumed while the epoch key is there', async () => {
      redis.keys.set('girder:queue:epoch', { value: 'x' });

      expect(await backend.lostItsData()).toBe(false);
      expect(redis.set).not.toHaveBeenCalled();
    });

    it('is answered to the one process that sets the epoch again', async () => {
      expect(await backend.lostItsData()).toBe(true);
      expect(redis.set).toHaveBeenCalledWith('girder:queue:epoch', expect.any(String), 'NX');
      // Another process finds the key already set again.
      expect(await backend.lostItsData()).toBe(false);
    });
  });

  it('finds jobs by key: missing ones are lost, finished-and-failed ones carry their reason', async () => {
    const key = (id: string) => `girder:queue:reports:${id}`;
    redis.keys.set(key('waiting'), { data: '{}' });
    redis.keys.set(key('stalled'), { finishedOn: '1714521600000' });
    const queue = {
      toKey: key,
      getJobState: jest.fn().mockResolvedValue('failed'),
      getJob: jest
        .fn()
        .mockResolvedValue({ failedReason: 'job stalled more than allowable limit' }),
    } as unknown as Queue;

    const found = await backend.findJobs(queue, ['waiting', 'stalled', 'gone']);

    expect(found).toEqual(
      new Map([
        ['waiting', {}],
        ['stalled', { failedReason: 'job stalled more than allowable limit' }],
      ]),
    );
  });
});

import type { AppConfig } from '@girder/config';
import {
  PostgresConnection,
  PostgresQueueBackend,
  Queue,
  QueueEvents,
  Worker,
  type BackendFactory,
  type Job,
  type PostgresConnectionOptions,
  type QueueBaseOptions,
} from 'bullmq';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresConnectionWithOutages, PostgresQueueBackendWithOutages } from './postgres-outages';
import {
  QueueBackend,
  type JobPresence,
  type JobProcessor,
  type WorkerTuning,
} from './queue-backend';

/** The schema of the default deployment (REDIS_KEY_PREFIX `girder`). */
export const DEFAULT_QUEUE_SCHEMA = 'bullmq';
/** Connections of the pool every queue of the process shares (hand-offs, counts, the dashboard). */
const QUEUE_POOL_SIZE = 4;
/** Connections per queue-events pool (reading events; the LISTEN connection comes on top). */
const EVENTS_POOL_SIZE = 1;
/** Connections per worker pool at most (the LISTEN connection comes on top). */
const MAX_WORKER_POOL_SIZE = 4;
/**
 * How long a worker waits before fetching again after the database could not be reached. BullMQ
 * waits `runRetryDelay` (15 s by default) only after a connection error; a worker back within a
 * second of the database is what the fault suite asks for.
 */
const WORKER_RETRY_DELAY_MS = 1_000;

type Options = QueueBaseOptions<PostgresConnectionOptions>;

/** How the engine's queues look with this backend inside. */
interface PgQueue {
  backend: PostgresQueueBackend;
}

/**
 * The PostgreSQL schema that holds a deployment's queues: what REDIS_KEY_PREFIX is to Redis
 * keys (several deployments, or test runs, can share one database). `bullmq` for the default
 * prefix, `bullmq_<prefix>` otherwise (a prefix PostgreSQL would not take as is gets a hash).
 */
export function queueSchema(prefix: string): string {
  if (prefix === 'girder') return DEFAULT_QUEUE_SCHEMA;
  if (/^[a-z0-9_]{1,56}$/.test(prefix)) return `${DEFAULT_QUEUE_SCHEMA}_${prefix}`;
  const readable = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 8);
  return `${DEFAULT_QUEUE_SCHEMA}_${readable}_${hash}`;
}

/**
 * The task queues on PostgreSQL alone (REDIS_URL unset): BullMQ's PostgreSQL backend, in the
 * app's own database (DATABASE_URL), schema `queueSchema(REDIS_KEY_PREFIX)`. The queues of a
 * process share one small pool (they only send short queries); each worker and queue-events
 * client owns a pool and a LISTEN connection (it blocks waiting for jobs or events), closed
 * with it. Each connection creates and migrates the schema if needed (`migrate: true`): BullMQ
 * runs its migrations in one transaction behind an advisory lock, so processes starting at the
 * same moment on a fresh database apply them exactly once (test/tasks/queue-backend.e2e-spec.ts).
 *
 * The queue data lives in the same database as the task records, so it is never lost apart
 * from them: there is no epoch to watch (see `lostItsData`).
 */
export class PostgresTaskBackend extends QueueBackend {
  readonly name = 'PostgreSQL';
  readonly schema: string;
  private readonly url: string;
  private readonly workerPoolSize: number;
  /** The connection the queues share, opened by the first one. */
  private producer?: PostgresConnection;
  /**
   * Workers and queue events (blocking consumers) get a connection of their own, as BullMQ's
   * factory builds them; queues share `producer` (a backend that does not own its connection
   * neither closes it nor blocks on it).
   */
  private readonly factory: BackendFactory<PostgresQueueBackend, PostgresConnectionOptions> = (
    name,
    opts,
    factoryOptions = {},
  ) => {
    if (factoryOptions.withBlockingConnection || factoryOptions.blocking) {
      // Named as BullMQ's createPostgresBackend names them: getWorkers and getQueueEvents
      // count the connections by these names (pg_stat_activity).
      const workerName = (opts as { name?: string }).name;
      const listenName = factoryOptions.withBlockingConnection
        ? `${name}${workerName ? `:w:${workerName}` : ''}`
        : `${name}:qe`;
      return new PostgresQueueBackendWithOutages(
        new PostgresConnectionWithOutages(opts.connection),
        name,
        opts,
        true,
        listenName,
      );
    }
    if (!this.producer) {
      this.producer = new PostgresConnectionWithOutages(opts.connection);
      this.producer.setMaxListeners(0); // one error listener per queue
    }
    const backend = new PostgresQueueBackendWithOutages(this.producer, name, opts, false);
    // The owner of a connection forwards its errors; the queues report them (TaskQueues).
    this.producer.on('error', (error: Error) => backend.emit('error', error));
    return backend;
  };

  constructor(config: AppConfig) {
    super();
    this.url = config.get('DATABASE_URL');
    this.schema = queueSchema(config.get('REDIS_KEY_PREFIX'));
    this.workerPoolSize = Math.min(
      MAX_WORKER_POOL_SIZE,
      Math.max(2, config.get('WORKER_CONCURRENCY')),
    );
  }

  /** Each client's own connection settings: the app's database, this deployment's schema. */
  options(poolSize: number): Options {
    return {
      connection: {
        connectionString: this.url,
        schema: this.schema,
        migrate: true,
        max: poolSize,
        application_name: 'girder-queues',
      },
    };
  }

  createQueue(name: string): Queue {
    return new Queue(name, this.options(QUEUE_POOL_SIZE), this.factory) as unknown as Queue;
  }

  createWorker<T>(name: string, processor: JobProcessor<T>, tuning: WorkerTuning): Worker<T> {
    return new Worker(
      name,
      processor as (job: Job<T>, token?: string) => Promise<void>,
      { ...this.options(this.workerPoolSize), runRetryDelay: WORKER_RETRY_DELAY_MS, ...tuning },
      this.factory,
    ) as unknown as Worker<T>;
  }

  createQueueEvents(name: string): QueueEvents {
    return new QueueEvents(
      name,
      this.options(EVENTS_POOL_SIZE),
      this.factory,
    ) as unknown as QueueEvents;
  }

  /**
   * Ready (schema checked or migrated) within `waitMs`. Past that, a hand-off simply tries: a
   * PostgreSQL that does not answer fails it fast (connection refused) or within its timeout.
   */
  async isConnected(queue: Queue, waitMs = 0): Promise<boolean> {
    const ready = queue.waitUntilReady().then(
      () => true,
      () => false,
    );
    return Promise.race([ready, sleep(waitMs, false, { ref: false })]);
  }

  async ping(queue: Queue): Promise<void> {
    await this.pool(queue).query('SELECT 1');
  }

  /**
   * Never: the jobs are rows of the same database as the tasks, written after their task
   * committed, so they are restored, replicated and failed over together. A failover that lost
   * the newest writes may lose a job whose task survived (never the reverse): the periodic
   * reconciliation hands such tasks off again, as after a partial Redis failover.
   */
  lostItsData(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async findJobs(queue: Queue, ids: string[]): Promise<Map<string, JobPresence>> {
    const found = new Map<string, JobPresence>();
    if (ids.length === 0) return found;
    await queue.waitUntilReady();
    // One query for the batch; the pool's search_path is the queues' schema.
    const { rows } = await this.pool(queue).query<{
      id: string;
      state: string;
      failed_reason: string | null;
    }>('SELECT id, state, failed_reason FROM job WHERE queue = $1 AND id = ANY($2::text[])', [
      queue.name,
      ids,
    ]);
    for (const row of rows) {
      found.set(
        row.id,
        row.state === 'failed'
          ? { failedReason: row.failed_reason || 'The task’s job failed' }
          : {},
      );
    }
    return found;
  }

  /** The queues' shared connection (workers and events close their own). Call after the queues. */
  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  private pool(queue: Queue) {
    return (queue as unknown as PgQueue).backend.connection.pool;
  }
}

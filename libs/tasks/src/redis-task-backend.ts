import type { AppConfig } from '@girder/config';
import { createRedisClient, redisKey } from '@girder/redis';
import { Queue, QueueEvents, Worker, type QueueOptions } from 'bullmq';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  QueueBackend,
  type JobPresence,
  type JobProcessor,
  type WorkerTuning,
} from './queue-backend';

/** How long a reconciliation's Redis round trip may take. */
const FIND_JOBS_TIMEOUT_MS = 2_000;
/** How long shutdown waits for the epoch client to quit. */
const QUIT_WAIT_MS = 1_000;

/**
 * The task queues on Redis (REDIS_URL set): BullMQ's default backend, keys under
 * `<REDIS_KEY_PREFIX>:queue`. Redis may lose its data on its own (a restart without
 * persistence, a flush, a failover to an empty replica): `<prefix>:queue:epoch` notices it.
 */
export class RedisTaskBackend extends QueueBackend {
  readonly name = 'Redis';
  private readonly url: string;
  private readonly prefix: string;
  private readonly epochKey: string;
  /** Each queue's Redis client once it first connected (its `status` tells whether it still is). */
  private readonly clients = new WeakMap<Queue, { status: string }>();
  private epochClient?: Redis;

  constructor(config: AppConfig) {
    super();
    this.url = config.get('REDIS_URL')!;
    this.prefix = config.get('REDIS_KEY_PREFIX');
    this.epochKey = redisKey(this.prefix, 'queue', 'epoch');
  }

  /** Connection and key prefix shared by every queue, worker and queue-events client. */
  options(): Pick<QueueOptions, 'connection' | 'prefix'> {
    return {
      // BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait, not fail).
      connection: { url: this.url, maxRetriesPerRequest: null },
      // BullMQ appends `:<queue>:<key>` itself.
      prefix: redisKey(this.prefix, 'queue'),
    };
  }

  createQueue(name: string): Queue {
    const queue = new Queue(name, this.options());
    // Settles once connected (never, while Redis stays unreachable).
    queue.backend.client.then(
      (client) => this.clients.set(queue, client as unknown as { status: string }),
      () => undefined,
    );
    return queue;
  }

  createWorker<T>(name: string, processor: JobProcessor<T>, tuning: WorkerTuning): Worker<T> {
    return new Worker<T>(name, processor, { ...this.options(), ...tuning });
  }

  createQueueEvents(name: string): QueueEvents {
    return new QueueEvents(name, this.options());
  }

  async isConnected(queue: Queue, waitMs = 0): Promise<boolean> {
    if (!this.clients.has(queue) && waitMs > 0) {
      await Promise.race([
        queue.backend.client.catch(() => undefined),
        sleep(waitMs, undefined, { ref: false }),
      ]);
    }
    return this.clients.get(queue)?.status === 'ready';
  }

  async ping(queue: Queue): Promise<void> {
    // The client promise only settles once connected: the caller's timeout also bounds the
    // wait for a connection that never comes.
    await ((await queue.backend.client) as unknown as { ping(): Promise<unknown> }).ping();
  }

  /**
   * Whether the epoch key is gone, i.e. Redis lost its data since it was set (or before this
   * process first asked). Sets it again; only the process whose SET NX wins answers true.
   */
  async lostItsData(): Promise<boolean> {
    const redis = this.epoch();
    if ((await redis.exists(this.epochKey)) === 1) return false;
    return (await redis.set(this.epochKey, randomUUID(), 'NX')) === 'OK';
  }

  async findJobs(queue: Queue, ids: string[]): Promise<Map<string, JobPresence>> {
    const found = new Map<string, JobPresence>();
    if (ids.length === 0) return found;
    const pipeline = this.epoch().pipeline();
    for (const id of ids) {
      const key = queue.toKey(id);
      pipeline.exists(key).hget(key, 'finishedOn');
    }
    const replies = (await withTimeout(pipeline.exec(), FIND_JOBS_TIMEOUT_MS)) ?? [];
    for (const [index, id] of ids.entries()) {
      const [[existsError, count] = [null, null], [, finishedOn] = [null, null]] = replies.slice(
        2 * index,
        2 * index + 2,
      );
      if (existsError) throw existsError;
      if (count === 0) continue;
      if (finishedOn && (await queue.getJobState(id)) === 'failed') {
        // Completed jobs are removed at once, so a finished one is nearly always a failure.
        const job = await queue.getJob(id);
        found.set(id, { failedReason: job?.failedReason || 'The task’s job failed' });
      } else {
        found.set(id, {});
      }
    }
    return found;
  }

  async close(): Promise<void> {
    const redis = this.epochClient;
    this.epochClient = undefined;
    if (redis?.status === 'ready') {
      await Promise.race([
        redis.quit().catch(() => undefined),
        sleep(QUIT_WAIT_MS, undefined, { ref: false }),
      ]);
    }
    redis?.disconnect();
  }

  /** The client of the epoch key and the reconciliation's look-ups, opened on first use. */
  private epoch(): Redis {
    if (!this.epochClient) {
      this.epochClient = createRedisClient(this.url, 'girder-task-outbox');
      // Without a listener ioredis prints every reconnection error; callers report outages.
      this.epochClient.on('error', () => undefined);
    }
    return this.epochClient;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import type { Job, Queue, QueueEvents, Worker, WorkerOptions } from 'bullmq';

/** What the outbox's reconciliation needs to know about a task's job. */
export interface JobPresence {
  /** BullMQ failed the job (stalled too often) while the task record still runs: its reason. */
  failedReason?: string;
}

/** The worker settings the engine chooses; the backend adds its connection. */
export type WorkerTuning = Pick<
  WorkerOptions,
  'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'
>;

export type JobProcessor<T> = (job: Job<T>, token?: string) => Promise<void>;

/**
 * Where the task queues keep their jobs: Redis (REDIS_URL set) or BullMQ's PostgreSQL backend
 * in the app's own database (REDIS_URL unset). Chosen once from configuration by TasksModule;
 * the rest of the engine builds its queues, workers and event listeners through it and never
 * asks which one it got. Everything specific to a store lives in its implementation
 * (`RedisTaskBackend`, `PostgresTaskBackend`).
 */
export abstract class QueueBackend {
  /** The store, as outage logs name it: `Redis` or `PostgreSQL`. */
  abstract readonly name: string;

  abstract createQueue(name: string): Queue;

  abstract createWorker<T>(
    name: string,
    processor: JobProcessor<T>,
    tuning: WorkerTuning,
  ): Worker<T>;

  abstract createQueueEvents(name: string): QueueEvents;

  /**
   * Whether the queue's store answers now, waiting at most `waitMs` for a queue that never
   * connected yet. Callers that must not wait (a hand-off, a cancel) ask first: commands sent
   * while Redis is down wait in the client until it is back.
   */
  abstract isConnected(queue: Queue, waitMs?: number): Promise<boolean>;

  /** Resolves when the queue's store answers a round trip (the `queues` readiness check). */
  abstract ping(queue: Queue): Promise<void>;

  /**
   * Whether the queue data vanished on its own since it was last asked (Redis restarted empty,
   * flushed). Answers true to one process only (it recovers: schedules and reconciliation).
   */
  abstract lostItsData(): Promise<boolean>;

  /**
   * Of these job ids of `queue`, the ones that exist (absent ids: the job is gone), with the
   * reason of those BullMQ failed.
   */
  abstract findJobs(queue: Queue, ids: string[]): Promise<Map<string, JobPresence>>;

  /** Releases what the backend holds itself (queues, workers and events close their own). */
  abstract close(): Promise<void>;
}

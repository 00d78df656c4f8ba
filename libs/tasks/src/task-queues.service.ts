import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { AppConfig } from '@girder/config';
import { ReadinessService, RedisHealthIndicator } from '@girder/health';
import { OutageLog } from '@girder/logging';
import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueConnectionOptions } from './queue-connection';
import { TASK_QUEUES, type TaskQueueName } from './task-queues';
import { TaskRegistry } from './task-registry';

/**
 * The BullMQ queues by name, created here rather than by `BullModule.registerQueue` so their
 * error listener is attached before they first connect (a queue without one prints every
 * reconnect failure to the console). Also adds their Redis connection to the readiness checks.
 */
@Injectable()
export class TaskQueues implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueues');
  private readonly outage = new OutageLog(this.logger, 'The task queues’ Redis');
  private readonly queues = new Map<TaskQueueName, Queue>();
  /** Each queue's Redis client once it first connected (its `status` tells whether it still is). */
  private readonly clients = new Map<TaskQueueName, { status: string }>();

  constructor(
    private readonly config: AppConfig,
    readiness: ReadinessService,
    redisHealth: RedisHealthIndicator,
    private readonly registry: TaskRegistry,
  ) {
    for (const name of TASK_QUEUES) this.get(name);
    // The client promise only settles once connected: ping through it so the check's timeout
    // also bounds the wait for a connection that never comes.
    const client = {
      ping: async () =>
        (
          (await this.get('users').backend.client) as unknown as { ping(): Promise<unknown> }
        ).ping(),
    };
    readiness.register(() => redisHealth.pingCheck('queues', client));
  }

  /** Every registered type's queue connects at boot, so a first hand-off finds it connected. */
  onApplicationBootstrap(): void {
    for (const name of this.registry.queueNames()) this.get(name);
  }

  /** The queue of that name, created on first use (features declare theirs in `@TaskType`). */
  get(name: TaskQueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      const created = new Queue(name, queueConnectionOptions(this.config));
      created.on('error', (error) => this.outage.down(`queue ${name}: ${error.message}`));
      // Settles once connected (never, while Redis stays unreachable).
      created.backend.client.then(
        (client) => this.clients.set(name, client as unknown as { status: string }),
        () => undefined,
      );
      this.queues.set(name, created);
      queue = created;
    }
    return queue;
  }

  /**
   * Whether the queue's Redis connection is up now, waiting at most `waitMs` for a queue that
   * never connected yet. Commands sent while it is down would wait in the client until Redis
   * is back (BullMQ's connections retry forever), so callers that must not wait ask first.
   */
  async isConnected(name: TaskQueueName, waitMs = 0): Promise<boolean> {
    const queue = this.get(name);
    if (!this.clients.has(name) && waitMs > 0) {
      await Promise.race([
        queue.backend.client.catch(() => undefined),
        sleep(waitMs, undefined, { ref: false }),
      ]);
    }
    return this.clients.get(name)?.status === 'ready';
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}

/** Each queue under the token `@nestjs/bullmq` and bull-board look up (`getQueueToken(name)`). */
export const QUEUE_TOKEN_PROVIDERS: Provider[] = TASK_QUEUES.map((name) => ({
  provide: getQueueToken(name),
  inject: [TaskQueues],
  useFactory: (queues: TaskQueues) => queues.get(name),
}));

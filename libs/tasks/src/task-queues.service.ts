import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { ReadinessService } from '@girder/health';
import { OutageLog } from '@girder/logging';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import { QueueBackend } from './queue-backend';
import { TASK_QUEUES, type TaskQueueName } from './task-queues';
import { TaskRegistry } from './task-registry';

/** How long the `queues` readiness check waits for the queues' store. */
const PING_TIMEOUT_MS = 1_000;

/**
 * The BullMQ queues by name, created here (through the QueueBackend: Redis or PostgreSQL)
 * rather than by `BullModule.registerQueue` so their error listener is attached before they
 * first connect (a queue without one prints every reconnect failure to the console). Also adds
 * their store to the readiness checks (`queues`).
 */
@Injectable()
export class TaskQueues implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueues');
  private readonly outage: OutageLog;
  private readonly queues = new Map<TaskQueueName, Queue>();

  constructor(
    private readonly backend: QueueBackend,
    readiness: ReadinessService,
    private readonly registry: TaskRegistry,
  ) {
    this.outage = new OutageLog(this.logger, `The task queues’ ${backend.name}`);
    for (const name of TASK_QUEUES) this.get(name);
    readiness.register(() => this.pingCheck());
  }

  /** The `queues` readiness check: a round trip to the queues' store within PING_TIMEOUT_MS. */
  async pingCheck(): Promise<HealthIndicatorResult> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.backend.ping(this.get('users')),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
            PING_TIMEOUT_MS,
          );
        }),
      ]);
      return { queues: { status: 'up' } };
    } catch (error) {
      return { queues: { status: 'down', message: (error as Error).message } };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every registered type's queue connects at boot, so a first hand-off finds it connected. */
  onApplicationBootstrap(): void {
    for (const name of this.registry.queueNames()) this.get(name);
  }

  /** The queue of that name, created on first use (features declare theirs in `@TaskType`). */
  get(name: TaskQueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      const created = this.backend.createQueue(name);
      created.on('error', (error) => this.outage.down(`queue ${name}: ${error.message}`));
      this.queues.set(name, created);
      queue = created;
    }
    return queue;
  }

  /**
   * Whether the queue's store answers now, waiting at most `waitMs` for a queue that never
   * connected yet. Commands sent while Redis is down would wait in the client until it is back
   * (BullMQ's connections retry forever), so callers that must not wait ask first.
   */
  isConnected(name: TaskQueueName, waitMs = 0): Promise<boolean> {
    return this.backend.isConnected(this.get(name), waitMs);
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
    await this.backend.close();
  }
}

/** Each queue under the token `@nestjs/bullmq` and bull-board look up (`getQueueToken(name)`). */
export const QUEUE_TOKEN_PROVIDERS: Provider[] = TASK_QUEUES.map((name) => ({
  provide: getQueueToken(name),
  inject: [TaskQueues],
  useFactory: (queues: TaskQueues) => queues.get(name),
}));

import { Injectable, Logger, OnApplicationShutdown, type Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { AppConfig } from '@girder/config';
import { ReadinessService, RedisHealthIndicator } from '@girder/health';
import { OutageLog } from '@girder/logging';
import { Queue } from 'bullmq';
import { queueConnectionOptions } from './queue-connection';
import { TASK_QUEUES, type TaskQueueName } from './task-queues';

/**
 * The BullMQ queues by name, created here rather than by `BullModule.registerQueue` so their
 * error listener is attached before they first connect (a queue without one prints every
 * reconnect failure to the console). Also adds their Redis connection to the readiness checks.
 */
@Injectable()
export class TaskQueues implements OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueues');
  private readonly outage = new OutageLog(this.logger, 'The task queues’ Redis');
  private readonly queues = new Map<TaskQueueName, Queue>();

  constructor(
    private readonly config: AppConfig,
    readiness: ReadinessService,
    redisHealth: RedisHealthIndicator,
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

  /** The queue of that name, created on first use (features declare theirs in `@TaskType`). */
  get(name: TaskQueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, queueConnectionOptions(this.config));
      queue.on('error', (error) => this.outage.down(`queue ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
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

import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { ReadinessService, RedisHealthIndicator } from '@girder/health';
import type { Queue } from 'bullmq';
import { TASK_QUEUES, type TaskQueueName } from './task-queues';

/** The BullMQ queues by name; also adds their Redis connection to the readiness checks. */
@Injectable()
export class TaskQueues implements OnModuleInit {
  private readonly queues = new Map<TaskQueueName, Queue>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly readiness: ReadinessService,
    private readonly redisHealth: RedisHealthIndicator,
  ) {}

  onModuleInit(): void {
    for (const name of TASK_QUEUES)
      this.queues.set(name, this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    this.readiness.register(async () =>
      this.redisHealth.pingCheck(
        'queues',
        (await this.get('users').backend.client) as unknown as { ping(): Promise<unknown> },
      ),
    );
  }

  get(name: TaskQueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`Unknown queue ${name}`);
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }
}

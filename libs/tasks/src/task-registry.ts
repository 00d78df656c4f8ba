import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QUEUE_NAME, TASK_QUEUES } from './task-queues';
import { TASK_TYPE_KEY, TaskHandler, type TaskTypeOptions } from './task-type';

export interface RegisteredTaskType {
  options: Required<Omit<TaskTypeOptions, 'permission' | 'result' | 'schedule'>> &
    Pick<TaskTypeOptions, 'permission' | 'result' | 'schedule'>;
  handler: TaskHandler;
}

const DEFAULTS = { attempts: 3, backoffMs: 1_000, timeoutMs: 10 * 60_000, secretPayload: false };

/** Every `@TaskType` provider of the app, by name. */
@Injectable()
export class TaskRegistry implements OnModuleInit {
  private readonly types = new Map<string, RegisteredTaskType>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as object | null;
      const instance = wrapper.instance as unknown;
      if (!metatype || !(instance instanceof TaskHandler)) continue;
      const options = Reflect.getMetadata(TASK_TYPE_KEY, metatype) as TaskTypeOptions | undefined;
      if (!options) continue;
      if (!QUEUE_NAME.test(options.queue)) {
        throw new Error(
          `Task type "${options.name}": queue "${options.queue}" must be lower-case letters, digits and dashes`,
        );
      }
      if (this.types.has(options.name) && this.types.get(options.name)!.handler !== instance) {
        throw new Error(`Task type "${options.name}" is declared twice`);
      }
      this.types.set(options.name, {
        options: { ...DEFAULTS, ...options, secretPayload: options.secretPayload ?? false },
        handler: instance as TaskHandler,
      });
    }
  }

  get(name: string): RegisteredTaskType | undefined {
    return this.types.get(name);
  }

  all(): RegisteredTaskType[] {
    return [...this.types.values()];
  }

  names(): string[] {
    return [...this.types.keys()].sort();
  }

  /** Girder's queues plus every queue a registered type names. */
  queueNames(): string[] {
    const declared = [...this.types.values()].map((type) => type.options.queue);
    return [...new Set<string>([...TASK_QUEUES, ...declared])];
  }
}

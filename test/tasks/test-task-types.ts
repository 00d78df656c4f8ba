import { Injectable, Module } from '@nestjs/common';
import { IsAuthenticated } from '@girder/permissions';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';
import { IsInt, Max, Min } from 'class-validator';

export class SlowPayload {
  @IsInt()
  @Min(0)
  @Max(20_000)
  ms!: number;
}

/** Waits, so tests can observe queued and running states. */
@Injectable()
@TaskType({
  name: 'test.slow',
  queue: 'reports',
  payload: SlowPayload,
  permission: IsAuthenticated,
})
export class SlowTask extends TaskHandler<SlowPayload, { waited: number }> {
  async run(payload: SlowPayload, context: TaskContext): Promise<{ waited: number }> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, payload.ms);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { waited: payload.ms };
  }
}

export class NoPayload {}

/** Always throws: proves retries with backoff and the final `failed` status. */
@Injectable()
@TaskType({
  name: 'test.always-fails',
  queue: 'reports',
  payload: NoPayload,
  permission: IsAuthenticated,
  attempts: 3,
  backoffMs: 50,
})
export class AlwaysFailsTask extends TaskHandler<NoPayload, never> {
  async run(_payload: NoPayload, context: TaskContext): Promise<never> {
    throw new Error(`Deliberate failure on attempt ${context.attempt}`);
  }
}

/** On a queue of its own, as a feature module would declare it. */
@Injectable()
@TaskType({
  name: 'test.own-queue',
  queue: 'test-own-queue',
  payload: NoPayload,
  permission: IsAuthenticated,
})
export class OwnQueueTask extends TaskHandler<NoPayload, { queue: string }> {
  async run(): Promise<{ queue: string }> {
    return { queue: 'test-own-queue' };
  }
}

@Module({ providers: [SlowTask, AlwaysFailsTask, OwnQueueTask] })
export class TestTaskTypesModule {}

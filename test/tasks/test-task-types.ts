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

export class TogetherPayload {
  @IsInt()
  @Min(0)
  @Max(100)
  n!: number;

  /** How many runs wait for each other before all of them end at once. */
  @IsInt()
  @Min(1)
  @Max(10)
  together!: number;
}

/** Runs waiting here; the last of a group releases them all in the same tick. */
const waitingTogether: Array<() => void> = [];

/**
 * Ends in the same tick as the runs it waits for (so the worker records their outcomes in
 * one statement): even `n` succeeds with `{ n }`, odd `n` fails for good with its own error.
 */
@Injectable()
@TaskType({
  name: 'test.together',
  queue: 'reports',
  payload: TogetherPayload,
  permission: IsAuthenticated,
  attempts: 1,
})
export class TogetherTask extends TaskHandler<TogetherPayload, { n: number }> {
  async run(payload: TogetherPayload): Promise<{ n: number }> {
    await new Promise<void>((resolve) => {
      waitingTogether.push(resolve);
      if (waitingTogether.length >= payload.together) {
        for (const release of waitingTogether.splice(0)) release();
      }
    });
    if (payload.n % 2 === 1) throw new Error(`Failure of task ${payload.n}`);
    return { n: payload.n };
  }
}

@Module({ providers: [SlowTask, AlwaysFailsTask, OwnQueueTask, TogetherTask] })
export class TestTaskTypesModule {}

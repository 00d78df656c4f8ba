/** The task type of `npm run bench:queue`, registered in both the submitting and the worker process. */
import { Injectable, Module } from '@nestjs/common';
import { TaskHandler, TaskType } from '@girder/tasks';

export const NOOP_TASK = 'bench.noop';

class NoPayload {}

/** Does nothing, so the figures measure the queue and the bookkeeping, not the work. */
@Injectable()
@TaskType({ name: NOOP_TASK, queue: 'reports', payload: NoPayload, permission: null })
class NoopTask extends TaskHandler<NoPayload, { ok: true }> {
  async run(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

@Module({ providers: [NoopTask] })
export class BenchTaskTypesModule {}

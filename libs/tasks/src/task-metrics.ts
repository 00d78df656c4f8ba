import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@girder/metrics';
import { Counter, Gauge } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskQueues } from './task-queues.service';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
/** A scrape must not hang on an unreachable Redis: the depths are left out instead. */
const COLLECT_TIMEOUT_MS = 500;

export type TaskOutcome = 'succeeded' | 'failed' | 'retried' | 'skipped';

/**
 * Queue metrics in this app's registry: `girder_queue_jobs{queue,state}` (read from Redis at
 * scrape time, in both apps) and `girder_task_runs_total{queue,type,outcome}` (counted by the
 * worker that ran them, so scrape the workers' `/metrics` for outcomes).
 */
@Injectable()
export class TaskMetrics {
  private readonly runs: Counter<'queue' | 'type' | 'outcome'>;

  constructor(registry: MetricsRegistry, queues: TaskQueues) {
    new Gauge({
      name: 'girder_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        const counts = await Promise.race([
          Promise.all(
            queues
              .all()
              .map(async (queue) => [queue.name, await queue.getJobCounts(...STATES)] as const),
          ),
          sleep(COLLECT_TIMEOUT_MS, null),
        ]).catch(() => null);
        for (const [queue, byState] of counts ?? []) {
          for (const state of STATES) this.set({ queue, state }, byState[state] ?? 0);
        }
      },
    });
    this.runs = new Counter({
      name: 'girder_task_runs_total',
      help: 'Task runs by queue, type and outcome',
      labelNames: ['queue', 'type', 'outcome'],
      registers: [registry],
    });
  }

  countRun(queue: string, type: string, outcome: TaskOutcome): void {
    this.runs.inc({ queue, type, outcome });
  }
}

import { Injectable } from '@nestjs/common';
import { groupedWrites } from './grouped-writes';
import {
  TasksRepository,
  type TaskFailure,
  type TaskRun,
  type TaskSuccess,
} from './tasks.repository';

/** The most runs one statement records. */
const GROUP_LIMIT = 200;

/**
 * The worker's writes of task states, grouped: the runs that start or end close together
 * (the worker's concurrent jobs) are recorded by one UPDATE each way instead of one per task.
 * Each caller still waits for its own row to be committed before its job moves on, so the
 * record is exactly as durable as with one write per task.
 */
@Injectable()
export class TaskStateWriter {
  private readonly claims = groupedWrites(async (runs: TaskRun[]) => {
    const claimed = await this.tasks.markRunning(runs);
    return runs.map((run) => claimed.has(run.id));
  }, GROUP_LIMIT);
  private readonly successes = groupedWrites(async (outcomes: TaskSuccess[]) => {
    await this.tasks.markSucceeded(outcomes);
    return outcomes.map(() => undefined);
  }, GROUP_LIMIT);
  private readonly failures = groupedWrites(async (outcomes: TaskFailure[]) => {
    await this.tasks.markFailed(outcomes);
    return outcomes.map(() => undefined);
  }, GROUP_LIMIT);

  constructor(private readonly tasks: TasksRepository) {}

  /** Queued or running → running as this attempt; false when cancelled or finished. */
  markRunning(id: string, attempt: number): Promise<boolean> {
    return this.claims.load({ id, attempt });
  }

  markSucceeded(
    id: string,
    result: object,
    file?: { path: string; contentType: string },
  ): Promise<void> {
    return this.successes.load({ id, result, file });
  }

  /** A failed run: `final` ends the task; otherwise it waits (queued) for its next attempt. */
  markFailed(id: string, error: string, final: boolean): Promise<void> {
    return this.failures.load({ id, error, final });
  }
}

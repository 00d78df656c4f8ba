import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { groupedWrites } from './grouped-writes';
import {
  TasksRepository,
  type RunStanding,
  type TaskRun,
  type TaskFailure,
  type TaskSuccess,
} from './tasks.repository';

export type { RunStanding, TaskRun } from './tasks.repository';

/** The most runs one statement records. */
const GROUP_LIMIT = 200;

/**
 * The worker's reads and writes of task states, grouped: the runs that start or end close
 * together (the worker's concurrent jobs) are looked up, claimed and recorded by one statement
 * each instead of one per task. Each caller still waits for its own row to be committed before
 * its job moves on, so the record is exactly as durable as with one write per task.
 */
@Injectable()
export class TaskStateWriter {
  private readonly standings = new DataLoader<string, RunStanding>(
    async (ids) => {
      const standings = await this.tasks.standings(ids);
      return ids.map((id) => standings.get(id)!);
    },
    { cache: false, maxBatchSize: GROUP_LIMIT },
  );
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

  /** How the task stands before a run of it (see `RunStanding`). */
  standing(id: string): Promise<RunStanding> {
    return this.standings.load(id);
  }

  /** Queued or running → running as this run; false when cancelled or finished. */
  markRunning(run: TaskRun): Promise<boolean> {
    return this.claims.load(run);
  }

  markSucceeded(
    run: TaskRun,
    result: object,
    file?: { path: string; contentType: string },
  ): Promise<void> {
    return this.successes.load({ ...run, result, file });
  }

  /** A failed run: `final` ends the task; otherwise it waits (queued) for its next attempt. */
  markFailed(run: TaskRun, error: string, final: boolean): Promise<void> {
    return this.failures.load({ ...run, error, final });
  }
}

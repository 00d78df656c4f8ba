import { Injectable, Module } from '@nestjs/common';
import { IsAuthenticated } from '@girder/permissions';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';

export const PROBE_RUNS_TABLE = 'fault_probe_runs';

export class ProbePayload {
  @IsString()
  @Length(1, 64)
  label!: string;

  @IsInt()
  @Min(0)
  @Max(60_000)
  ms!: number;
}

/**
 * Waits `ms`, then records that it ran to completion (one row per completed run), so a
 * fault test can count lost tasks (no row) and tasks run twice (two rows).
 */
@Injectable()
@TaskType({
  name: 'test.probe',
  queue: 'probe',
  payload: ProbePayload,
  permission: IsAuthenticated,
  attempts: 5,
  backoffMs: 200,
})
export class ProbeTask extends TaskHandler<ProbePayload, { label: string }> {
  constructor(private readonly database: DataSource) {
    super();
  }

  async run(payload: ProbePayload, context: TaskContext): Promise<{ label: string }> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, payload.ms);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.database.query(`INSERT INTO ${PROBE_RUNS_TABLE} (task_id, label) VALUES ($1, $2)`, [
      context.taskId,
      payload.label,
    ]);
    return { label: payload.label };
  }
}

@Module({ providers: [ProbeTask] })
export class ProbeTaskModule {}

/** Creates the probe's table (idempotent). */
export async function createProbeTable(database: DataSource): Promise<void> {
  await database.query(
    `CREATE TABLE IF NOT EXISTS ${PROBE_RUNS_TABLE} (
       task_id uuid NOT NULL, label text NOT NULL, finished_at timestamptz NOT NULL DEFAULT now())`,
  );
}

export interface ProbeTally {
  submitted: number;
  succeeded: number;
  lost: number;
  ranTwice: number;
}

/** Counts, for the probe tasks labelled `label`, how many finished, were lost or ran twice. */
export async function tallyProbes(database: DataSource, label: string): Promise<ProbeTally> {
  const [row] = await database.query(
    `SELECT count(*)::int AS submitted,
            count(*) FILTER (WHERE t.status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE runs.n IS NULL OR t.status <> 'succeeded')::int AS lost,
            count(*) FILTER (WHERE runs.n > 1)::int AS ran_twice
       FROM tasks t
       LEFT JOIN (SELECT task_id, count(*) AS n FROM ${PROBE_RUNS_TABLE} GROUP BY task_id) runs
              ON runs.task_id = t.id
      WHERE t.type = 'test.probe' AND t.payload->>'label' = $1`,
    [label],
  );
  return {
    submitted: row.submitted,
    succeeded: row.succeeded,
    lost: row.lost,
    ranTwice: row.ran_twice,
  };
}

/** Waits until every probe task labelled `label` has finished (or the deadline passes). */
export async function waitForProbes(
  database: DataSource,
  label: string,
  timeoutMs: number,
): Promise<ProbeTally> {
  const deadline = Date.now() + timeoutMs;
  let tally = await tallyProbes(database, label);
  while (tally.succeeded < tally.submitted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    tally = await tallyProbes(database, label);
  }
  // Give a duplicate run (a job handed off twice) the chance to show itself.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return tallyProbes(database, label);
}

import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsAdmin } from '@girder/permissions';
import { TaskHandler, TaskType } from '@girder/tasks';
import { Matches } from 'class-validator';
import { UsersRepository, type DailyCount } from '../users.repository';

/** The id of the daily schedule in the queue backend. */
export const SIGNUPS_SCHEDULER_ID = 'reports.signups.daily';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

export class SignupsReportPayload {
  @ApiProperty({ format: 'date', example: '2026-11-01', description: 'First UTC day' })
  @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' })
  from!: string;

  @ApiProperty({
    format: 'date',
    example: '2026-11-30',
    description: `Last UTC day (at most ${MAX_DAYS} days after from)`,
  })
  @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' })
  to!: string;
}

class SignupsDay implements DailyCount {
  @ApiProperty({ format: 'date', example: '2026-11-01' })
  date!: string;

  @ApiProperty({ type: 'integer', minimum: 0, example: 12 })
  count!: number;
}

export class SignupsReportResult {
  @ApiProperty({
    type: [SignupsDay],
    description: 'Every day of the range, days without signups as 0',
  })
  days!: DailyCount[];
}

function parseDay(value: string): number {
  const time = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value ? NaN : time;
}

/** Signups per UTC day, zero days included. Also runs daily for yesterday (job scheduler). */
@Injectable()
@TaskType({
  name: 'reports.signups',
  queue: 'reports',
  payload: SignupsReportPayload,
  result: SignupsReportResult,
  permission: IsAdmin,
  // Every day for yesterday (scheduledPayload), at REPORTS_SIGNUPS_CRON.
  schedule: { id: SIGNUPS_SCHEDULER_ID, cron: (config) => config.get('REPORTS_SIGNUPS_CRON') },
})
export class SignupsReportTask extends TaskHandler<SignupsReportPayload, SignupsReportResult> {
  constructor(private readonly users: UsersRepository) {
    super();
  }

  override check(payload: SignupsReportPayload): string | undefined {
    const from = parseDay(payload.from);
    const to = parseDay(payload.to);
    if (Number.isNaN(from) || Number.isNaN(to)) return 'from and to must be real calendar dates';
    if (from > to) return 'from must not be after to';
    if ((to - from) / 86_400_000 + 1 > MAX_DAYS) return `at most ${MAX_DAYS} days per report`;
    return undefined;
  }

  override scheduledPayload(): SignupsReportPayload {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    return { from: yesterday, to: yesterday };
  }

  async run(payload: SignupsReportPayload): Promise<SignupsReportResult> {
    return { days: await this.users.countCreatedPerDay(payload.from, payload.to) };
  }
}

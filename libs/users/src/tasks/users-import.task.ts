import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Propagation, runInTransaction } from '@girder/database';
import { Secret } from '@girder/logging';
import { IsAdmin, type UserRole } from '@girder/permissions';
import { TaskHandler, TaskType, type TaskContext } from '@girder/tasks';
import { plainToInstance } from 'class-transformer';
import { IsString, MaxLength, validateSync } from 'class-validator';
import { parse } from 'csv-parse';
import { CreateUserDto } from '../dto/create-user.dto';
import { normaliseEmail } from '../email';
import { PasswordHasher } from '../password-hasher';
import { UsersRepository } from '../users.repository';

export const MAX_IMPORT_ROWS = 10_000;
const BATCH_SIZE = 100;

export class UsersImportPayload {
  /** Header `email,name,password[,role]`, then up to 10,000 rows. Holds passwords. */
  @ApiProperty({
    description: `CSV with the header email,name,password[,role], then up to ${MAX_IMPORT_ROWS} rows. Its passwords never reach logs or queue data.`,
    example: 'email,name,password,role\nada@example.com,Ada Lovelace,correct-horse-battery,user',
    maxLength: 4_000_000,
  })
  @Secret()
  @IsString()
  @MaxLength(4_000_000)
  csv!: string;
}

class ImportLineError {
  @ApiProperty({ type: 'integer', minimum: 2, description: 'CSV line (the header is line 1)' })
  line!: number;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;
}

export class UsersImportResult {
  @ApiProperty({ type: 'integer', minimum: 0 })
  created!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Rows whose email was taken or repeated',
  })
  skipped!: number;

  @ApiProperty({ type: [ImportLineError] })
  errors!: ImportLineError[];
}

interface ImportCheckpoint extends UsersImportResult {
  /** Last CSV line whose row is committed (or rejected). */
  line: number;
}

function rowCount(csv: string): number {
  return csv.split(/\r?\n/).filter((line) => line.trim().length > 0).length - 1;
}

interface ImportRow {
  email: string;
  name: string;
  password: string;
  role: UserRole;
}

/** A CSV row checked by the same rules as `POST /users` (CreateUserDto), first failure reported. */
function checkRow(record: Record<string, string | undefined>): { row?: ImportRow; error?: string } {
  const candidate = plainToInstance(CreateUserDto, {
    email: record.email ?? '',
    name: (record.name ?? '').trim(),
    password: record.password ?? '',
    role: (record.role ?? '').trim() || 'user',
  });
  const [failure] = validateSync(candidate);
  if (failure) {
    return {
      error: Object.values(failure.constraints ?? {})[0] ?? `${failure.property} is invalid`,
    };
  }
  return {
    row: {
      email: candidate.email,
      name: candidate.name,
      password: candidate.password,
      role: candidate.role ?? 'user',
    },
  };
}

/**
 * Imports users from CSV. Streams the rows, hashes passwords on libuv's thread pool (never on
 * the event loop), and commits each batch together with a checkpoint: after a crash the next
 * attempt resumes after the last committed batch, so every row is created exactly once and
 * the counts stay exact. Taken emails (and repeats within the file) are skipped.
 */
@Injectable()
@TaskType({
  name: 'users.import',
  queue: 'users',
  payload: UsersImportPayload,
  result: UsersImportResult,
  permission: IsAdmin,
  timeoutMs: 30 * 60_000,
  secretPayload: true,
})
export class UsersImportTask extends TaskHandler<UsersImportPayload, UsersImportResult> {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {
    super();
  }

  override check(payload: UsersImportPayload): string | undefined {
    const header = payload.csv
      .split(/\r?\n/, 1)[0]
      .split(',')
      .map((column) => column.trim().toLowerCase());
    for (const column of ['email', 'name', 'password']) {
      if (!header.includes(column))
        return `csv header must be email,name,password[,role] (missing ${column})`;
    }
    const rows = rowCount(payload.csv);
    if (rows < 1) return 'csv has no rows';
    if (rows > MAX_IMPORT_ROWS)
      return `csv has ${rows} rows; at most ${MAX_IMPORT_ROWS} are accepted`;
    return undefined;
  }

  override describePayload(payload: UsersImportPayload): Record<string, unknown> {
    // Never store or show the passwords the CSV carries.
    return { rows: rowCount(payload.csv), bytes: Buffer.byteLength(payload.csv) };
  }

  async run(payload: UsersImportPayload, context: TaskContext): Promise<UsersImportResult> {
    const total = Math.max(rowCount(payload.csv), 1);
    const state: ImportCheckpoint = (await context.loadCheckpoint<ImportCheckpoint>()) ?? {
      line: 1,
      created: 0,
      skipped: 0,
      errors: [],
    };
    const seen = new Set<string>();
    let batch: Array<{ row: ImportRow; line: number }> = [];
    let processed = 0;

    const flush = async () => {
      if (batch.length === 0) return;
      if (context.signal.aborted) throw new Error('Import interrupted');
      const hashed = await Promise.all(
        batch.map(async ({ row }) => ({
          email: row.email,
          name: row.name,
          role: row.role,
          // argon2id on libuv's thread pool, through the hasher's bounded queue.
          passwordHash: await this.hasher.hash(row.password),
        })),
      );
      const lastLine = batch[batch.length - 1].line;
      const size = batch.length;
      batch = [];
      await runInTransaction(Propagation.Required, async () => {
        const created = await this.users.insertManyIgnoringTaken(hashed);
        state.created += created.length;
        state.skipped += size - created.length;
        state.line = lastLine;
        await context.saveCheckpoint(state, Math.min(99, (processed / total) * 100));
      });
      await context.reportProgress(Math.min(99, (processed / total) * 100)).catch(() => undefined);
    };

    const parser = parse(payload.csv, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: false,
    });
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      processed += 1;
      if (info.lines <= state.line) {
        // Committed by an earlier attempt; remember its email so repeats still count as skipped.
        seen.add(normaliseEmail(record.email ?? ''));
        continue;
      }
      const { row, error } = checkRow(record);
      if (error || !row) {
        state.errors.push({ line: info.lines, message: error ?? 'invalid row' });
        continue;
      }
      if (seen.has(row.email)) {
        state.skipped += 1;
        continue;
      }
      seen.add(row.email);
      batch.push({ row, line: info.lines });
      if (batch.length >= BATCH_SIZE) await flush();
    }
    await flush();
    return { created: state.created, skipped: state.skipped, errors: state.errors };
  }
}

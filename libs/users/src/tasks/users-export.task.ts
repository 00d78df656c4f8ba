import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsAdmin } from '@girder/permissions';
import { TaskHandler, TaskStorage, TaskType, type TaskContext } from '@girder/tasks';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsersRepository } from '../users.repository';
import { csvLine } from './csv';

/** No options: every user is exported. */
export class UsersExportPayload {}

export class UsersExportResult {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Users written' })
  rows!: number;

  @ApiProperty({
    example: 'users-0b7c6f2e.csv',
    description: 'Download it with GET /tasks/{id}/download',
  })
  file!: string;
}

const HEADER = ['id', 'email', 'name', 'role', 'isActive', 'createdAt'];

/** Streams every user (no hashes) from a database cursor into a CSV file: memory stays flat. */
@Injectable()
@TaskType({
  name: 'users.export',
  queue: 'users',
  payload: UsersExportPayload,
  result: UsersExportResult,
  permission: IsAdmin,
})
export class UsersExportTask extends TaskHandler<UsersExportPayload, UsersExportResult> {
  constructor(
    private readonly users: UsersRepository,
    private readonly storage: TaskStorage,
  ) {
    super();
  }

  async run(_payload: UsersExportPayload, context: TaskContext): Promise<UsersExportResult> {
    const file = `users-${context.taskId}.csv`;
    const path = join(await this.storage.directory('exports'), file);
    const { stream, release } = await this.users.streamAll();
    let rows = 0;
    const toCsv = new Transform({
      writableObjectMode: true,
      construct(callback) {
        this.push(csvLine(HEADER));
        callback();
      },
      transform(row: Record<string, unknown>, _encoding, callback) {
        rows += 1;
        callback(
          null,
          csvLine([
            row.user_id,
            row.user_email,
            row.user_name,
            row.user_role,
            row.user_is_active,
            row.user_created_at,
          ]),
        );
      },
    });
    try {
      await pipeline(stream, toCsv, createWriteStream(path), { signal: context.signal });
    } finally {
      await release();
    }
    return { rows, file };
  }

  override file(result: UsersExportResult): { path: string; contentType: string } {
    return { path: join('exports', result.file), contentType: 'text/csv; charset=utf-8' };
  }
}

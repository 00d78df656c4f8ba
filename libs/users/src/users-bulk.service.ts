import { Injectable } from '@nestjs/common';
import type { UserRole } from '@girder/permissions';
import type { Readable } from 'node:stream';
import { PasswordHasher } from './password-hasher';
import { UsersRepository } from './users.repository';

export interface ImportRow {
  email: string;
  name: string;
  password: string;
  role: UserRole;
}

export interface ExportRow {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  is_active: boolean;
  created_at: Date;
}

export interface DailyCount {
  date: string;
  count: number;
}

/**
 * Whole-table operations for background tasks: imports, exports and statistics. Kept apart
 * from UsersService (one request, one user) because their shape and cost are different.
 */
@Injectable()
export class UsersBulkService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** argon2id on libuv's thread pool: the event loop stays free while thousands of rows hash. */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  /**
   * Inserts rows whose passwords are already hashed; taken emails are skipped, never duplicated.
   * Joins the caller's transaction. Returns the emails actually created.
   */
  insertHashed(
    rows: Array<Omit<ImportRow, 'password'> & { passwordHash: string }>,
  ): Promise<string[]> {
    return this.users.insertManyIgnoringTaken(rows);
  }

  /** Every user, oldest first, as a row stream (no loading the table into memory). Release with `destroy()`. */
  streamForExport(): Promise<{ stream: Readable; release: () => Promise<void> }> {
    return this.users.streamAll();
  }

  signupsPerDay(from: string, to: string): Promise<DailyCount[]> {
    return this.users.countCreatedPerDay(from, to);
  }
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskStorage } from './task-storage';

/** Where job data points instead of carrying a secret payload. */
export interface PayloadReference {
  file: string;
}

/**
 * Payloads that carry secrets (`@TaskType({ secretPayload: true })`, e.g. the passwords of a
 * users.import CSV) never go into queue data, where failed jobs keep them for an hour and the
 * dashboard shows them. They are written to `STORAGE_DIR/task-inputs/<task id>.json`, readable
 * by the owner only, the job carries the file name, and the file is removed when the task
 * ends (succeeded, failed for good, or cancelled).
 */
@Injectable()
export class TaskPayloadVault {
  constructor(private readonly storage: TaskStorage) {}

  async store(taskId: string, payload: object): Promise<PayloadReference> {
    const directory = await this.storage.directory('task-inputs');
    const file = `${taskId}.json`;
    // Written under a temporary name first, so a reader never sees half a file.
    const partial = join(directory, `.${file}.${randomUUID()}`);
    await writeFile(partial, JSON.stringify(payload), { mode: 0o600 });
    await rename(partial, join(directory, file));
    return { file: join('task-inputs', file) };
  }

  async load(reference: PayloadReference): Promise<object> {
    return JSON.parse(await readFile(this.storage.resolve(reference.file), 'utf8')) as object;
  }

  async remove(taskId: string): Promise<void> {
    await rm(this.storage.resolve(join('task-inputs', `${taskId}.json`)), { force: true });
  }
}

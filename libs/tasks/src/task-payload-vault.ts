import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskStorage } from './task-storage';

/** Where job data points instead of carrying a secret payload. */
export interface PayloadReference {
  file: string;
}

const STORED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;
const PARTIAL = /^\..+\.json\..+$/;

/**
 * Payloads that carry secrets (`@TaskType({ secretPayload: true })`, e.g. the passwords of a
 * users.import CSV) never go into queue data, where failed jobs keep them for an hour and the
 * dashboard shows them. They are written to `STORAGE_DIR/task-inputs/<task id>.json`, readable
 * by the owner only, the job carries the file name, and the file is removed when the task
 * ends (succeeded, failed for good, or cancelled). The file is written before the task row
 * commits, so whoever hands the task to its queue later (the outbox sweep) finds it.
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
    return this.reference(taskId);
  }

  /** The reference `store` answers for this task (whether or not its file exists). */
  reference(taskId: string): PayloadReference {
    return { file: join('task-inputs', `${taskId}.json`) };
  }

  async load(reference: PayloadReference): Promise<object> {
    return JSON.parse(await readFile(this.storage.resolve(reference.file), 'utf8')) as object;
  }

  async remove(taskId: string): Promise<void> {
    await rm(this.storage.resolve(join('task-inputs', `${taskId}.json`)), { force: true });
  }

  /**
   * Removes stored payloads older than `olderThanMs` whose task is not queued or running (its
   * submitting transaction rolled back, or its process died before cleaning up), and
   * half-written files as old. Answers how many files went.
   */
  async removeOrphans(
    olderThanMs: number,
    unfinished: (taskIds: string[]) => Promise<Set<string>>,
  ): Promise<number> {
    const directory = await this.storage.directory('task-inputs');
    const before = Date.now() - olderThanMs;
    const old: string[] = [];
    for (const name of await readdir(directory)) {
      if (!STORED.test(name) && !PARTIAL.test(name)) continue;
      const modified = await stat(join(directory, name)).then(
        (stats) => stats.mtimeMs,
        () => Infinity,
      );
      if (modified < before) old.push(name);
    }
    const taskIds = old.flatMap((name) => STORED.exec(name)?.[1] ?? []);
    const live = await unfinished(taskIds);
    const orphans = old.filter((name) => !live.has(STORED.exec(name)?.[1] ?? ''));
    await Promise.all(orphans.map((name) => rm(join(directory, name), { force: true })));
    return orphans.length;
  }
}

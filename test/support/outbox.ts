import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';

export interface DeliveredMail {
  taskId: string;
  /** The .eml file as written to STORAGE_DIR/outbox, quoted-printable decoded. */
  text: string;
  /** The `token` query parameter of the first link in the mail. */
  token: string;
}

interface TaskRow {
  id: string;
  status: string;
  result: { file?: string; skipped?: string } | null;
  error: string | null;
}

/** Undoes quoted-printable: soft line breaks and `=XX` escapes. */
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Waits for the newest task of `type` whose payload has `field` = `value` (and is newer than
 * `after`, when given) to finish, and answers its outcome: the mail it wrote to the outbox, or
 * why it sent none.
 */
export async function waitForMailTask(
  database: DataSource,
  type: string,
  field: string,
  value: string,
  options: { after?: string; timeoutMs?: number } = {},
): Promise<{ mail?: DeliveredMail; skipped?: string; taskId: string }> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const rows: TaskRow[] = await database.query(
      `SELECT id, status, result, error FROM tasks
        WHERE type = $1 AND payload->>$2 = $3 AND ($4::uuid IS NULL OR id <> $4::uuid)
          AND ($4::uuid IS NULL OR created_at >= (SELECT created_at FROM tasks WHERE id = $4::uuid))
        ORDER BY created_at DESC LIMIT 1`,
      [type, field, value, options.after ?? null],
    );
    const [task] = rows;
    if (task?.status === 'succeeded') {
      if (task.result?.skipped) return { skipped: task.result.skipped, taskId: task.id };
      const raw = await readFile(join(process.env.STORAGE_DIR!, task.result!.file!), 'utf8');
      const text = decodeQuotedPrintable(raw);
      const token = /token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
      if (!token) throw new Error(`no token in ${task.result!.file}`);
      return { mail: { taskId: task.id, text, token }, taskId: task.id };
    }
    if (task?.status === 'failed') throw new Error(`task ${task.id} failed: ${task.error}`);
    if (Date.now() > deadline) {
      throw new Error(`no finished ${type} task for ${field}=${value} (last: ${task?.status})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

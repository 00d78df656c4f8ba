import { isDatabaseUnreachable } from '@girder/errors';
import DataLoader from 'dataloader';

export interface GroupedWritesOptions {
  /** The most items one write carries. */
  maxGroup: number;
  /** How long the first item of a group waits for others; 0: only those of the same tick. */
  windowMs?: number;
}

/**
 * Groups the calls made close together into one write (one statement, one round trip) and
 * answers each caller its own result. When the write fails for a reason other than the
 * database being unreachable (one item it refuses), each item is written alone, so one bad
 * item fails only its own caller; when the database is unreachable, every caller gets the
 * error (and retries as it would have alone).
 */
export function groupedWrites<Item, Result>(
  write: (items: Item[]) => Promise<Result[]>,
  { maxGroup, windowMs = 0 }: GroupedWritesOptions,
): DataLoader<Item, Result> {
  return new DataLoader<Item, Result>(
    async (items) => {
      try {
        return await write([...items]);
      } catch (error) {
        if (items.length === 1 || isDatabaseUnreachable(error)) throw error;
        return Promise.all(
          items.map((item) =>
            write([item]).then(
              ([result]) => result,
              (itemError: Error) => itemError,
            ),
          ),
        );
      }
    },
    {
      cache: false,
      maxBatchSize: maxGroup,
      ...(windowMs > 0 && { batchScheduleFn: (flush) => setTimeout(flush, windowMs) }),
    },
  );
}

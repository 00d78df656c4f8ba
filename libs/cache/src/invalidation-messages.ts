import type { InvalidationMessage } from './cache-backend';

/** A message every process reads as "drop everything local" (it is not a JSON message). */
export const DROP_ALL_MESSAGE = '*';

/**
 * The messages announcing an invalidation of `tags` (and the `keys` that carried them), each
 * at most `maxBytes` of JSON text (PostgreSQL caps NOTIFY payloads); an item too large to fit
 * any message turns the whole invalidation into `DROP_ALL_MESSAGE`.
 */
export function invalidationMessages(
  tags: readonly string[],
  keys: readonly string[],
  maxBytes: number,
): string[] {
  const whole = JSON.stringify({ t: [...tags], k: [...keys] } satisfies InvalidationMessage);
  if (Buffer.byteLength(whole) <= maxBytes) return [whole];
  const messages: string[] = [];
  let current: InvalidationMessage = { t: [], k: [] };
  let size = Buffer.byteLength(JSON.stringify(current));
  const flush = (): void => {
    if (current.t.length + current.k.length > 0) messages.push(JSON.stringify(current));
    current = { t: [], k: [] };
    size = Buffer.byteLength(JSON.stringify(current));
  };
  const items: Array<['t' | 'k', string]> = [
    ...tags.map((tag): ['t', string] => ['t', tag]),
    ...keys.map((key): ['k', string] => ['k', key]),
  ];
  for (const [list, item] of items) {
    // The item's JSON string plus a separating comma.
    const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (size + itemBytes > maxBytes) flush();
    if (size + itemBytes > maxBytes) return [DROP_ALL_MESSAGE];
    current[list].push(item);
    size += itemBytes;
  }
  flush();
  return messages;
}

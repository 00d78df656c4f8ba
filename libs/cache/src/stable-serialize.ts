/**
 * JSON-like text of a value where equal values give equal text: object keys are sorted, and
 * `undefined`, dates, bigints, maps and sets are spelled out instead of being lost or
 * collapsed (plain JSON turns `f(undefined)` and `f(null)` into the same text).
 */
export function stableSerialize(value: unknown): string {
  if (value === undefined) return '~u';
  if (value === null || typeof value === 'boolean' || typeof value === 'number')
    return JSON.stringify(value) ?? 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `~n${value.toString()}`;
  if (value instanceof Date) return `~d${value.toISOString()}`;
  if (Array.isArray(value)) return `[${value.map(stableSerialize).join(',')}]`;
  if (value instanceof Map)
    return `~m${stableSerialize([...value.entries()].sort(([a], [b]) => compare(a, b)))}`;
  if (value instanceof Set) return `~s${stableSerialize([...value].sort(compare))}`;
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) =>
          `${JSON.stringify(key)}:${stableSerialize((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`Cannot build a cache key from a ${typeof value}`);
}

function compare(a: unknown, b: unknown): number {
  const left = stableSerialize(a);
  const right = stableSerialize(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

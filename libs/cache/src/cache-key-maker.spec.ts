import { CacheKeyMaker } from './cache-key-maker';

describe('CacheKeyMaker', () => {
  const keys = new CacheKeyMaker();
  const key = (...args: unknown[]): string => keys.make('users.get', args);

  it('gives the same key for equal values, whatever the object key order', () => {
    expect(key({ a: 1, b: [1, 2] }, 'x')).toBe(key({ b: [1, 2], a: 1 }, 'x'));
    expect(key(new Date('2026-01-01T00:00:00Z'))).toBe(key(new Date('2026-01-01T00:00:00Z')));
  });

  it.each<[string, unknown[], unknown[]]>([
    ['different ids', ['a'], ['b']],
    ['a number and its string', [1], ['1']],
    ['null and undefined', [null], [undefined]],
    ['no argument and undefined', [], [undefined]],
    ['argument boundaries', ['a', 'b'], ['a,b']],
    ['nested values', [{ filter: { role: 'user' } }], [{ filter: { role: 'admin' } }]],
    ['array order', [[1, 2]], [[2, 1]]],
    ['dates', [new Date(0)], [new Date(1)]],
    ['a string that looks like an encoded value', ['~u'], [undefined]],
  ])('gives different keys for %s', (_name, left, right) => {
    expect(keys.make('p', left)).not.toBe(keys.make('p', right));
  });

  it('keeps the prefix readable and separates prefixes', () => {
    expect(key('a')).toMatch(/^users\.get:[A-Za-z0-9_-]{32}$/);
    expect(keys.make('users.get', ['a'])).not.toBe(keys.make('users.list', ['a']));
  });
});

import { MAX_JSON_DEPTH, hostileJsonProblem } from './hostile-input.middleware';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { a: value };
  return value;
}

describe('hostileJsonProblem', () => {
  it('accepts ordinary bodies, up to the depth limit', () => {
    expect(hostileJsonProblem(undefined)).toBeUndefined();
    expect(hostileJsonProblem({ email: 'a@b.c', tags: ['x'], n: 1, ok: null })).toBeUndefined();
    expect(hostileJsonProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('refuses nesting beyond the limit, however deep, without overflowing', () => {
    expect(hostileJsonProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/nested deeper/);
    expect(hostileJsonProblem(nested(200_000))).toMatch(/nested deeper/);
  });

  it('refuses NUL characters in strings and keys, at any depth', () => {
    expect(hostileJsonProblem({ name: 'a\u0000b' })).toMatch(/NUL/);
    expect(hostileJsonProblem({ list: [{ deep: ['x\u0000'] }] })).toMatch(/NUL/);
    expect(hostileJsonProblem({ ['k\u0000']: 1 })).toMatch(/NUL/);
  });

  it('refuses lone UTF-16 surrogates, and accepts paired ones (emoji)', () => {
    expect(hostileJsonProblem({ email: 'a\ud800@b.c' })).toMatch(/Unicode/);
    expect(hostileJsonProblem({ name: '\udc00x' })).toMatch(/Unicode/);
    expect(hostileJsonProblem({ ['\ud83d']: 1 })).toMatch(/Unicode/);
    expect(hostileJsonProblem({ name: 'Ada \ud83d\ude80' })).toBeUndefined();
  });
});

import { ProblemException } from '@girder/errors';
import { decodeCursor, encodeCursor, toPage } from './pagination';

describe('keyset cursors', () => {
  const position = {
    createdAt: new Date('2026-01-02T03:04:05.678Z'),
    id: '0b7c6f2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e',
  };

  it('round-trip', () => {
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each([
    '',
    'garbage',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('["2026-01-01T00:00:00Z","not-a-uuid"]').toString('base64url'),
    // Valid JavaScript dates that PostgreSQL cannot take (its range starts in 4713 BC).
    Buffer.from(`["-200000-01-01T00:00:00Z","${position.id}"]`).toString('base64url'),
    Buffer.from(`["+275760-09-13T00:00:00.000Z","${position.id}"]`).toString('base64url'),
  ])('reject %j with a 400 problem', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(ProblemException);
  });

  it('toPage returns a cursor only when more rows exist', () => {
    const rows = [1, 2, 3].map((n) => ({ createdAt: new Date(n * 1000), id: position.id, n }));
    expect(toPage(rows, 2, (row) => row.n)).toEqual({
      items: [1, 2],
      nextCursor: encodeCursor(rows[1]),
    });
    expect(toPage(rows, 3, (row) => row.n)).toEqual({ items: [1, 2, 3], nextCursor: null });
  });
});

import { resolveRequestId } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('resolveRequestId', () => {
  it('keeps a sane incoming id', () => {
    expect(resolveRequestId('abc-123_X.y')).toBe('abc-123_X.y');
    expect(resolveRequestId('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it('replaces missing, empty, too long or unsafe ids with a UUID', () => {
    for (const bad of [undefined, '', 'a'.repeat(129), 'has space', 'x\ny', '<script>']) {
      expect(resolveRequestId(bad)).toMatch(UUID);
    }
  });
});

import { DROP_ALL_MESSAGE, invalidationMessages } from './invalidation-messages';

describe('invalidationMessages', () => {
  it('one message when it fits', () => {
    expect(invalidationMessages(['users:1'], ['k'], 100)).toEqual(['{"t":["users:1"],"k":["k"]}']);
  });

  it('splits a large invalidation into messages under the limit, losing nothing', () => {
    const tags = Array.from({ length: 500 }, (_, index) => `users:${index}`);
    const messages = invalidationMessages(tags, ['a', 'b'], 1_000);
    expect(messages.length).toBeGreaterThan(1);
    for (const text of messages) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1_000);
    const parsed = messages.map((text) => JSON.parse(text) as { t: string[]; k: string[] });
    expect(parsed.flatMap((message) => message.t)).toEqual(tags);
    expect(parsed.flatMap((message) => message.k)).toEqual(['a', 'b']);
  });

  it('an item larger than any message turns the invalidation into "drop everything"', () => {
    expect(invalidationMessages(['x'.repeat(200)], [], 100)).toEqual([DROP_ALL_MESSAGE]);
  });
});

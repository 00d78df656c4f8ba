import { LocalCache } from './local-cache';

const MINUTE = 60_000;

describe('LocalCache (the in-process level and its coherence rules)', () => {
  let local: LocalCache;
  const later = () => Date.now() + MINUTE;

  /** Subscribed and heard from Redis just now: the state in which entries are served. */
  const listening = (cache: LocalCache): LocalCache => {
    cache.startListening();
    cache.heard(performance.now());
    return cache;
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') });
    local = listening(
      new LocalCache({ maxEntries: 100, maxBytes: 1_000_000, maxSilenceMs: 1_000 }),
    );
  });
  afterEach(() => jest.useRealTimers());

  it('serves what was filled, as a fresh copy each time', () => {
    local.fill(local.ticket(), 'k', { name: 'Ada', roles: ['admin'] }, later(), ['users:1']);
    const first = local.get<{ name: string; roles: string[] }>('k')!;
    expect(first).toEqual({ name: 'Ada', roles: ['admin'] });
    first.name = 'mutated by a caller';
    first.roles.push('x');
    expect(local.get('k')).toEqual({ name: 'Ada', roles: ['admin'] });
  });

  it('drops an entry at its expiry (the Redis copy’s), not later', () => {
    local.fill(local.ticket(), 'k', 1, Date.now() + 5_000, []);
    jest.advanceTimersByTime(4_999);
    local.heard(performance.now());
    expect(local.get('k')).toBe(1);
    jest.advanceTimersByTime(1);
    expect(local.get('k')).toBeUndefined();
    expect(local.size).toBe(0);
  });

  it('does not keep an already expired value', () => {
    local.fill(local.ticket(), 'k', 1, Date.now(), []);
    expect(local.size).toBe(0);
  });

  describe('invalidation', () => {
    it('drops by tag (local index) and by key', () => {
      local.fill(local.ticket(), 'a', 'a', later(), ['users:1', 'prefix:http:user']);
      local.fill(local.ticket(), 'b', 'b', later(), ['users:2', 'prefix:http:user']);
      local.fill(local.ticket(), 'c', 'c', later(), []);
      local.invalidate(['users:1'], []);
      expect([local.get('a'), local.get('b'), local.get('c')]).toEqual([undefined, 'b', 'c']);
      local.invalidate([], ['c']);
      expect(local.get('c')).toBeUndefined();
      local.invalidate(['prefix:http:user'], []);
      expect(local.size).toBe(0);
    });

    it('refuses a fill whose ticket predates any invalidation (an answer already on its way)', () => {
      const ticket = local.ticket();
      // Another key, another tag: any invalidation counts, the check is deliberately coarse.
      local.invalidate(['unrelated'], []);
      local.fill(ticket, 'k', 'old', later(), ['users:1']);
      expect(local.get('k')).toBeUndefined();
      local.fill(local.ticket(), 'k', 'new', later(), ['users:1']);
      expect(local.get('k')).toBe('new');
    });

    it('an overwritten entry is indexed under its new tags only', () => {
      local.fill(local.ticket(), 'k', 1, later(), ['old-tag']);
      local.fill(local.ticket(), 'k', 2, later(), ['new-tag']);
      local.invalidate(['old-tag'], []);
      expect(local.get('k')).toBe(2);
      local.invalidate(['new-tag'], []);
      expect(local.get('k')).toBeUndefined();
    });

    it('clear() drops everything and refuses fills in flight', () => {
      const ticket = local.ticket();
      local.fill(local.ticket(), 'a', 'a', later(), ['t']);
      local.clear();
      local.fill(ticket, 'b', 'b', later(), []);
      expect(local.size).toBe(0);
    });
  });

  describe('the subscription (messages from other processes)', () => {
    it('keeps and serves nothing before it is listening', () => {
      const fresh = new LocalCache({ maxEntries: 10, maxBytes: 1_000, maxSilenceMs: 1_000 });
      fresh.heard(performance.now());
      fresh.fill(fresh.ticket(), 'k', 1, later(), []);
      expect(fresh.size).toBe(0);
      expect(fresh.serving).toBe(false);
    });

    it('a dropped subscription drops every entry and keeps nothing until it is back', () => {
      local.fill(local.ticket(), 'k', 1, later(), ['t']);
      const inFlight = local.ticket();
      local.stopListening();
      expect(local.size).toBe(0);
      local.fill(local.ticket(), 'k', 1, later(), []);
      expect(local.size).toBe(0);

      local.startListening();
      // Read before the subscription was back: a message may have been lost meanwhile.
      local.fill(inFlight, 'k', 'old', later(), []);
      expect(local.size).toBe(0);
      local.fill(local.ticket(), 'k', 'new', later(), []);
      local.heard(performance.now());
      expect(local.get('k')).toBe('new');
    });

    it('after (re)subscribing, serves only once a PING sent since then is answered', () => {
      jest.advanceTimersByTime(100);
      const sentBefore = performance.now();
      jest.advanceTimersByTime(100);
      local.startListening();
      local.fill(local.ticket(), 'k', 1, later(), []);
      local.heard(sentBefore); // a PING of the previous connection
      expect(local.serving).toBe(false);
      expect(local.get('k')).toBeUndefined();
      local.heard(performance.now());
      expect(local.get('k')).toBe(1);
    });

    it('silence suspends serving (not the entries) after maxSilenceMs, until Redis is heard again', () => {
      local.fill(local.ticket(), 'k', 1, later(), []);
      const sentAt = performance.now();
      jest.advanceTimersByTime(1_000);
      expect(local.get('k')).toBe(1);
      jest.advanceTimersByTime(1);
      expect(local.serving).toBe(false);
      expect(local.get('k')).toBeUndefined();
      // A late answer to an old PING does not count for more than its sending time.
      local.heard(sentAt);
      expect(local.get('k')).toBeUndefined();
      local.heard(performance.now());
      expect(local.get('k')).toBe(1);
    });
  });

  describe('bounds', () => {
    it('keeps at most maxEntries, dropping the least recently used (and its tag index)', () => {
      const small = listening(
        new LocalCache({ maxEntries: 2, maxBytes: 1_000, maxSilenceMs: 1_000 }),
      );
      small.fill(small.ticket(), 'a', 'a', later(), ['t']);
      small.fill(small.ticket(), 'b', 'b', later(), ['t']);
      small.get('a');
      small.fill(small.ticket(), 'c', 'c', later(), ['t']);
      expect([small.get('a'), small.get('b'), small.get('c')]).toEqual(['a', undefined, 'c']);
      small.invalidate(['t'], []);
      expect(small.size).toBe(0);
    });

    it('keeps at most maxBytes of JSON text, and never an entry larger than that', () => {
      const small = listening(
        new LocalCache({ maxEntries: 100, maxBytes: 100, maxSilenceMs: 1_000 }),
      );
      small.fill(small.ticket(), 'big', 'x'.repeat(200), later(), ['t']);
      expect(small.size).toBe(0);
      for (let n = 0; n < 10; n += 1)
        small.fill(small.ticket(), `k${n}`, 'y'.repeat(20), later(), []);
      // Each is 22 characters of JSON plus a 2-character key: four fit in 100.
      expect(small.size).toBe(4);
      expect(small.get('k9')).toBe('y'.repeat(20));
    });

    it('maxEntries 0 turns the level off', () => {
      const off = new LocalCache({ maxEntries: 0, maxBytes: 1_000, maxSilenceMs: 1_000 });
      off.startListening();
      off.heard(performance.now());
      off.fill(off.ticket(), 'k', 1, later(), []);
      expect(off.enabled).toBe(false);
      expect(off.get('k')).toBeUndefined();
    });

    it('ignores values JSON cannot carry', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      local.fill(local.ticket(), 'k', cyclic, later(), []);
      local.fill(local.ticket(), 'f', () => 1, later(), []);
      expect(local.size).toBe(0);
    });
  });
});

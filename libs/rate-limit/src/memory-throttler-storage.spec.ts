import { MemoryThrottlerStorage } from './memory-throttler-storage';

const MINUTE = 60_000;

describe('MemoryThrottlerStorage', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('counts hits in a fixed window and blocks the hit that passes the limit for blockDuration', () => {
    const counters = new MemoryThrottlerStorage();
    const hit = () => counters.hit('ip:1', MINUTE, 3, 30_000, 'default');

    expect(hit()).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    jest.advanceTimersByTime(10_500);
    expect(hit()).toEqual({
      totalHits: 2,
      timeToExpire: 50,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    expect(hit()).toMatchObject({ totalHits: 3, isBlocked: false });
    expect(hit()).toEqual({
      totalHits: 4,
      timeToExpire: 50,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    // Blocked hits still count; the block runs from the hit that passed the limit.
    jest.advanceTimersByTime(20_000);
    expect(hit()).toEqual({
      totalHits: 5,
      timeToExpire: 30,
      isBlocked: true,
      timeToBlockExpire: 10,
    });
  });

  it('after a block that ends inside the window, the next hit is blocked again (as in Redis)', () => {
    const counters = new MemoryThrottlerStorage();
    const hit = () => counters.hit('ip:1', MINUTE, 1, 5_000, 'default');
    hit();
    expect(hit()).toMatchObject({ totalHits: 2, isBlocked: true, timeToBlockExpire: 5 });
    jest.advanceTimersByTime(6_000);
    expect(hit()).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 5 });
  });

  it('a new window starts at 1 once the previous one expired, and lets the key through again', () => {
    const counters = new MemoryThrottlerStorage();
    const hit = () => counters.hit('login:1.2.3.4|a@b.c', MINUTE, 2, MINUTE, 'login');
    hit();
    hit();
    expect(hit().isBlocked).toBe(true);
    jest.advanceTimersByTime(MINUTE + 1);
    expect(hit()).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps a counter per key and per throttler name', () => {
    const counters = new MemoryThrottlerStorage();
    counters.hit('ip:1', MINUTE, 1, MINUTE, 'default');
    expect(counters.hit('ip:1', MINUTE, 1, MINUTE, 'default').isBlocked).toBe(true);
    expect(counters.hit('ip:2', MINUTE, 1, MINUTE, 'default').isBlocked).toBe(false);
    expect(counters.hit('ip:1', MINUTE, 1, MINUTE, 'register').isBlocked).toBe(false);
  });

  it('increment() answers like hit(), as a promise (ThrottlerStorage)', async () => {
    const counters = new MemoryThrottlerStorage();
    await expect(counters.increment('k', MINUTE, 5, MINUTE, 'default')).resolves.toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('sweeps expired entries (at most every 10 s), blocked ones only once their block ended', () => {
    const counters = new MemoryThrottlerStorage();
    for (let i = 0; i < 100; i += 1) counters.hit(`ip:${i}`, 1_000, 10, 1_000, 'default');
    counters.hit('blocked', 1_000, 0, 30_000, 'default');
    expect(counters.size).toBe(101);

    jest.advanceTimersByTime(10_000);
    counters.hit('fresh', 1_000, 10, 1_000, 'default');
    expect(counters.size).toBe(2); // `blocked` and `fresh`

    jest.advanceTimersByTime(30_000);
    counters.hit('fresh', 1_000, 10, 1_000, 'default');
    expect(counters.size).toBe(1);
  });

  it('never holds more than maxEntries: the least recently hit live entries go first', () => {
    const counters = new MemoryThrottlerStorage(10);
    counters.hit('attacked', MINUTE, 1, MINUTE, 'login');
    counters.hit('attacked', MINUTE, 1, MINUTE, 'login');
    for (let i = 0; i < 50; i += 1) {
      counters.hit(`made-up:${i}`, MINUTE, 1, MINUTE, 'login');
      // The key under attack keeps being hit, so it stays, and stays blocked.
      expect(counters.hit('attacked', MINUTE, 1, MINUTE, 'login').isBlocked).toBe(true);
      expect(counters.size).toBeLessThanOrEqual(10);
    }
    // An evicted key starts over.
    expect(counters.hit('made-up:0', MINUTE, 1, MINUTE, 'login').totalHits).toBe(1);
  });
});

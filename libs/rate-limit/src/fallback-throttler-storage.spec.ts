import {
  FallbackThrottlerStorage,
  PROBE_INTERVAL_MS,
  type FallbackEvents,
  type PrimaryThrottlerStorage,
} from './fallback-throttler-storage';

const MINUTE = 60_000;
const FROM_REDIS = { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 };

/** Lets settled promises' callbacks run (the probe is not awaited by anyone). */
const flush = () =>
  new Promise<void>((resolve) => jest.requireActual('timers').setImmediate(resolve));

function setUp() {
  const primary: jest.Mocked<PrimaryThrottlerStorage> = {
    increment: jest.fn().mockResolvedValue(FROM_REDIS),
    ping: jest.fn().mockResolvedValue('PONG'),
  };
  const events: jest.Mocked<Required<FallbackEvents>> = {
    down: jest.fn(),
    up: jest.fn(),
    memoryHit: jest.fn(),
  };
  const storage = new FallbackThrottlerStorage(primary, events);
  const hit = (key = 'ip:1', limit = 2) => storage.increment(key, MINUTE, limit, MINUTE, 'default');
  return { primary, events, storage, hit };
}

describe('FallbackThrottlerStorage', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('counts in the primary while it answers', async () => {
    const { primary, events, storage, hit } = setUp();
    await expect(hit()).resolves.toEqual(FROM_REDIS);
    expect(primary.increment).toHaveBeenCalledWith('ip:1', MINUTE, 2, MINUTE, 'default');
    expect(storage.degraded).toBe(false);
    expect(events.down).not.toHaveBeenCalled();
    expect(events.memoryHit).not.toHaveBeenCalled();
  });

  it('a failing primary command: the hit is counted in memory, the switch reported once, later hits skip the primary', async () => {
    const { primary, events, storage, hit } = setUp();
    const refused = new Error('connect ECONNREFUSED');
    primary.increment.mockRejectedValue(refused);

    await expect(hit()).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    expect(storage.degraded).toBe(true);
    expect(events.down).toHaveBeenCalledTimes(1);
    expect(events.down).toHaveBeenCalledWith(refused, true);

    // Same limits in memory: the third hit of a limit of 2 is blocked.
    await expect(hit()).resolves.toMatchObject({ totalHits: 2, isBlocked: false });
    await expect(hit()).resolves.toMatchObject({ totalHits: 3, isBlocked: true });
    expect(primary.increment).toHaveBeenCalledTimes(1);
    expect(events.memoryHit).toHaveBeenCalledTimes(3);
    expect(events.down).toHaveBeenCalledTimes(1);
  });

  it('concurrent failures switch once', async () => {
    const { primary, events, hit } = setUp();
    primary.increment.mockRejectedValue(new Error('Command timed out'));
    await Promise.all([hit('a'), hit('b'), hit('c')]);
    expect(events.down).toHaveBeenCalledTimes(1);
  });

  it('probes the primary at most once per interval while degraded, never making a request wait', async () => {
    const { primary, events, storage, hit } = setUp();
    storage.degrade(new Error('connection closed'));
    expect(events.down).toHaveBeenCalledWith(new Error('connection closed'), true);
    primary.ping.mockReturnValue(new Promise(() => undefined)); // Redis hangs

    await hit();
    expect(primary.ping).not.toHaveBeenCalled(); // the interval starts at the switch
    jest.advanceTimersByTime(PROBE_INTERVAL_MS);
    await expect(hit()).resolves.toMatchObject({ totalHits: 2 }); // answered from memory
    await hit();
    jest.advanceTimersByTime(PROBE_INTERVAL_MS);
    await hit();
    expect(primary.ping).toHaveBeenCalledTimes(1); // one probe in flight at a time
    expect(primary.increment).not.toHaveBeenCalled();
  });

  it('a failed probe is reported (for the outage reminders) and keeps counting in memory', async () => {
    const { primary, events, storage, hit } = setUp();
    storage.degrade(new Error('connection closed'));
    primary.ping.mockRejectedValue(new Error('Stream isn’t writeable'));
    jest.advanceTimersByTime(PROBE_INTERVAL_MS);
    await hit();
    await flush();
    expect(events.down).toHaveBeenLastCalledWith(new Error('Stream isn’t writeable'), false);
    expect(storage.degraded).toBe(true);
    expect(events.up).not.toHaveBeenCalled();
  });

  it('a successful probe switches back to the primary, reported once', async () => {
    const { primary, events, storage, hit } = setUp();
    primary.increment.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await hit();
    jest.advanceTimersByTime(PROBE_INTERVAL_MS);
    await hit(); // memory; sends the probe
    await flush();
    expect(storage.degraded).toBe(false);
    expect(events.up).toHaveBeenCalledTimes(1);

    await expect(hit()).resolves.toEqual(FROM_REDIS);
    expect(primary.increment).toHaveBeenCalledTimes(2);
    expect(events.memoryHit).toHaveBeenCalledTimes(2);
  });

  it('probe(true) (the connection is back) does not wait for the interval or for a request', async () => {
    const { primary, events, storage } = setUp();
    storage.degrade(new Error('connection closed'));
    storage.probe(true);
    await flush();
    expect(primary.ping).toHaveBeenCalledTimes(1);
    expect(events.up).toHaveBeenCalledTimes(1);
    expect(storage.degraded).toBe(false);

    storage.probe(true); // nothing to do when not degraded
    expect(primary.ping).toHaveBeenCalledTimes(1);
  });
});

import { Logger } from '@nestjs/common';
import type { AppConfig } from '@girder/config';
import {
  InvalidationTransport,
  NoSharedCacheStore,
  type InvalidationEvents,
} from './cache-backend';
import { CacheService } from './cache.service';

/** An invalidation transport the test drives (what PostgreSQL LISTEN/NOTIFY would deliver). */
class FakeTransport extends InvalidationTransport {
  readonly maxMessageBytes = 7_900;
  events!: InvalidationEvents;
  readonly publish = jest.fn(async (_text: string) => undefined);
  readonly ping = jest.fn(async () => undefined);
  readonly close = jest.fn(async () => undefined);
  open(events: InvalidationEvents): void {
    this.events = events;
  }
}

const CONFIG: Record<string, unknown> = {
  CACHE_TTL_SECONDS: 60,
  CACHE_ENABLED: true,
  CACHE_LOCAL_MAX_ENTRIES: 100,
  CACHE_LOCAL_MAX_MB: 1,
};
const config = { get: (key: string) => CONFIG[key] } as unknown as AppConfig;
const TAGS = { tags: ['users:1'], prefix: 'http:user' };
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CacheService in PostgreSQL-only mode (in-process level, no shared one)', () => {
  let transport: FakeTransport;
  let cache: CacheService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    transport = new FakeTransport();
    cache = new CacheService(config, new NoSharedCacheStore(), transport);
    await cache.onModuleInit();
    transport.events.listening();
    await flush(); // the first ping comes back
  });
  afterEach(() => cache.onApplicationShutdown());

  it('keeps what it stores and serves it from memory', async () => {
    await cache.set('k', { name: 'Ada' }, TAGS);
    expect(await cache.get('k', TAGS)).toEqual({ name: 'Ada' });
  });

  it('tag invalidation works locally and is announced to the other processes', async () => {
    await cache.set('k', 'v', TAGS);
    await cache.invalidateTags(['users:1']);
    expect(await cache.get('k', TAGS)).toBeUndefined();
    expect(transport.publish).toHaveBeenCalledWith(JSON.stringify({ t: ['users:1'], k: [] }));
  });

  it('an invalidation from another process drops the entry by tag', async () => {
    await cache.set('k', 'v', TAGS);
    transport.events.message(JSON.stringify({ t: ['users:1'], k: [] }));
    expect(await cache.get('k', TAGS)).toBeUndefined();
  });

  it('a value loaded while an invalidation arrived is not kept (it may predate the write)', async () => {
    const found = await cache.lookup<string>('k', TAGS);
    expect(found.hit).toBe(false);
    transport.events.message(JSON.stringify({ t: ['users:1'], k: [] }));
    if (!found.hit) await found.store('loaded before the write');
    expect(await cache.get('k', TAGS)).toBeUndefined();
  });

  it('nothing local without the channel: lost drops everything; unpinged entries are not served', async () => {
    await cache.set('k', 'v', TAGS);
    transport.events.lost(new Error('terminated'));
    expect(await cache.get('k', TAGS)).toBeUndefined();
    await cache.set('k', 'v', TAGS);
    expect(await cache.get('k', TAGS)).toBeUndefined(); // not kept while not listening

    transport.ping.mockReturnValue(new Promise(() => undefined)); // silence
    transport.events.listening();
    await cache.set('k', 'v', TAGS);
    expect(await cache.get('k', TAGS)).toBeUndefined(); // kept, but not heard yet: not served
  });

  it('an invalidation that could not be announced drops every local entry', async () => {
    await cache.set('a', 'v', { tags: ['other'] });
    transport.publish.mockRejectedValueOnce(new Error('PostgreSQL unreachable'));
    await cache.invalidateTags(['users:1']);
    expect(await cache.get('a', { tags: ['other'] })).toBeUndefined();
  });
});

import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { AppConfig } from '@girder/config';
import { RedisKeys } from '@girder/redis';
import { CacheService } from './cache.service';
import { RedisCacheStore, RedisInvalidationTransport } from './redis-cache-store';

/** The parts of an ioredis client CacheService uses: events, state, a few commands. */
class FakeClient extends EventEmitter {
  status = 'ready';
  subscriber?: FakeClient;
  readonly connect = jest.fn(async () => undefined);
  readonly disconnect = jest.fn();
  readonly ping = jest.fn(async () => 'PONG');
  readonly subscribe = jest.fn(async (_channel: string) => 1);
  readonly del = jest.fn(async (..._keys: string[]) => 1);
  readonly publish = jest.fn(async (_channel: string, _text: string) => 1);
  readonly zrange = jest.fn(async (_key: string, _start: number, _stop: number) => [] as string[]);
  /** Every MULTI, as the commands queued on it. */
  readonly multis: Array<Array<[string, ...unknown[]]>> = [];
  exec = jest.fn(async () => [] as Array<[Error | null, unknown]>);

  duplicate(): FakeClient {
    this.subscriber = new FakeClient();
    return this.subscriber;
  }

  multi() {
    const commands: Array<[string, ...unknown[]]> = [];
    this.multis.push(commands);
    const chain: Record<string, unknown> = {};
    for (const name of ['zremrangebyscore', 'zadd', 'pexpire']) {
      chain[name] = (...args: unknown[]) => {
        commands.push([name, ...args]);
        return chain;
      };
    }
    chain.exec = () => this.exec();
    return chain;
  }
}

const redis = { client: new FakeClient() };
const keyv = { on: jest.fn(), getRaw: jest.fn() };
const store = { set: jest.fn(async () => undefined), mdel: jest.fn(async () => true) };

jest.mock('@girder/redis', () => ({
  ...jest.requireActual('@girder/redis'),
  createRedisClient: () => redis.client,
}));
jest.mock('keyv', () => ({ Keyv: jest.fn(() => keyv) }));
jest.mock('cache-manager', () => ({ createCache: () => store }));

const CONFIG: Record<string, unknown> = {
  CACHE_TTL_SECONDS: 60,
  CACHE_ENABLED: true,
  CACHE_REDIS_URL: undefined,
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  REDIS_KEY_PREFIX: 'unit',
  CACHE_LOCAL_MAX_ENTRIES: 100,
  CACHE_LOCAL_MAX_MB: 1,
};
const config = { get: (key: string) => CONFIG[key] } as unknown as AppConfig;

const TAGS = { tags: ['users:1'], prefix: 'http:user' };
const message = (tags: string[], keys: string[]) => JSON.stringify({ t: tags, k: keys });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CacheService (the two levels and their coherence)', () => {
  let cache: CacheService;
  let client: FakeClient;
  let subscriber: FakeClient;

  /** In Redis until the test says otherwise. */
  const inRedis = (value: unknown) =>
    keyv.getRaw.mockResolvedValue({ value, expires: Date.now() + 60_000 });
  /** Published messages, parsed. */
  const published = () =>
    client.publish.mock.calls.map(([channel, text]) => ({ channel, ...JSON.parse(text) }));
  /** The service as `cacheBackendProviders` builds it in Redis mode. */
  const redisCache = () => {
    const keys = new RedisKeys(config);
    const shared = new RedisCacheStore('redis://127.0.0.1:6379/0', keys);
    return new CacheService(config, shared, new RedisInvalidationTransport(shared, keys));
  };

  beforeEach(async () => {
    jest.clearAllMocks();
    client = redis.client = new FakeClient();
    cache = redisCache();
    await cache.onModuleInit();
    subscriber = client.subscriber!;
    subscriber.emit('ready');
    await flush();
  });
  afterEach(() => cache.onApplicationShutdown());
  /** A message as the subscription delivers it. */
  const deliver = (text: string) => subscriber.emit('message', 'unit:cache-invalidation', text);
  // Outages are the point of some tests: keep their log lines out of the output (this file's
  // module registry only).
  beforeAll(() => Logger.overrideLogger(false));

  it('subscribes on a connection of its own, then answers repeated reads from memory', async () => {
    expect(subscriber.subscribe).toHaveBeenCalledWith('unit:cache-invalidation');
    expect(subscriber.ping).toHaveBeenCalled();
    inRedis({ name: 'Ada' });
    expect(await cache.get('k', TAGS)).toEqual({ name: 'Ada' });
    expect(await cache.get('k', TAGS)).toEqual({ name: 'Ada' });
    expect(keyv.getRaw).toHaveBeenCalledTimes(1);
  });

  it('goes to Redis while its main connection is down', async () => {
    inRedis('v');
    await cache.get('k', TAGS);
    client.status = 'connecting';
    expect(await cache.get('k', TAGS)).toBeUndefined();
    expect(keyv.getRaw).toHaveBeenCalledTimes(1); // not asked: fails open at once
  });

  it('an invalidation message drops the entry (its own too: they follow a late deletion)', async () => {
    inRedis('old');
    await cache.get('k', TAGS);
    deliver(message(['users:1'], []));
    inRedis('new');
    expect(await cache.get('k', TAGS)).toBe('new');
    expect(keyv.getRaw).toHaveBeenCalledTimes(2);
  });

  it('drops by the keys in the message too (entries read without their tags)', async () => {
    inRedis('old');
    await cache.get('k');
    deliver(message(['users:1'], ['k']));
    inRedis('new');
    expect(await cache.get('k')).toBe('new');
  });

  it('an unreadable message drops everything', async () => {
    inRedis('old');
    await cache.get('a', TAGS);
    await cache.get('b');
    deliver('not json');
    keyv.getRaw.mockClear();
    await cache.get('a', TAGS);
    await cache.get('b');
    expect(keyv.getRaw).toHaveBeenCalledTimes(2);
  });

  it('a dropped subscription drops everything and keeps nothing until it is back', async () => {
    inRedis('old');
    await cache.get('k', TAGS);
    subscriber.status = 'reconnecting';
    subscriber.emit('error', new Error('Socket closed unexpectedly'));
    subscriber.emit('close');
    inRedis('new');
    expect(await cache.get('k', TAGS)).toBe('new');
    expect(await cache.get('k', TAGS)).toBe('new');
    expect(keyv.getRaw).toHaveBeenCalledTimes(3); // nothing kept meanwhile

    // Back: subscribed again, then used again once a PING is answered.
    subscriber.status = 'ready';
    subscriber.emit('ready');
    await flush();
    expect(subscriber.subscribe).toHaveBeenCalledTimes(2);
    await cache.get('k', TAGS);
    await cache.get('k', TAGS);
    expect(keyv.getRaw).toHaveBeenCalledTimes(4);
  });

  it('a Redis answer that crosses an invalidation is not kept', async () => {
    let answer!: (raw: unknown) => void;
    keyv.getRaw.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const read = cache.get('k', TAGS);
    deliver(message(['unrelated'], []));
    answer({ value: 'old', expires: Date.now() + 60_000 });
    expect(await read).toBe('old');
    inRedis('new');
    expect(await cache.get('k', TAGS)).toBe('new');
  });

  describe('invalidateTags', () => {
    it('deletes the tagged keys, then the indexes, then publishes, and drops locally', async () => {
      await cache.set('k', 'v', TAGS);
      client.multis.length = 0;
      client.zrange.mockResolvedValue(['k']);
      await cache.invalidateTags(['users:1']);
      expect(store.mdel).toHaveBeenCalledWith(['k']);
      expect(client.del).toHaveBeenCalledWith('unit:cache-tag:users:1');
      expect(client.del.mock.invocationCallOrder[0]).toBeLessThan(
        client.publish.mock.invocationCallOrder[0],
      );
      expect(published()[0]).toMatchObject({ t: ['users:1'], k: ['k'] });
      inRedis('fresh');
      expect(await cache.get('k', TAGS)).toBe('fresh');
    });

    it('drops every local entry when Redis cannot say which keys carry the tags', async () => {
      await cache.set('a', 'v', { tags: ['other'] });
      client.zrange.mockRejectedValue(new Error('connection lost'));
      await cache.invalidateTags(['users:1']);
      inRedis('fresh');
      expect(await cache.get('a', { tags: ['other'] })).toBe('fresh');
    });
  });

  it('keeps locally only what Redis stored, tag index included', async () => {
    client.exec.mockRejectedValueOnce(new Error('connection lost'));
    await cache.set('k', 'v', TAGS);
    keyv.getRaw.mockResolvedValue(undefined);
    expect(await cache.get('k', TAGS)).toBeUndefined();
  });

  it('CACHE_LOCAL_MAX_ENTRIES=0: no subscription, every read from Redis; invalidations still published', async () => {
    await cache.onApplicationShutdown();
    client = redis.client = new FakeClient();
    CONFIG.CACHE_LOCAL_MAX_ENTRIES = 0;
    try {
      cache = redisCache();
      await cache.onModuleInit();
      expect(client.subscriber).toBeUndefined();
      inRedis('v');
      await cache.get('k', TAGS);
      await cache.get('k', TAGS);
      expect(keyv.getRaw).toHaveBeenCalledTimes(2);
      await cache.invalidateTags(['users:1']);
      expect(published()).toHaveLength(1);
    } finally {
      CONFIG.CACHE_LOCAL_MAX_ENTRIES = 100;
    }
  });
});

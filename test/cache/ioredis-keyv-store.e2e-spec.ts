import { IoredisKeyvStore } from '@girder/cache';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { describeWithRedis, e2eRedisUrl } from '../support/redis-mode';

/** cache-manager's storage on a real Redis: what Keyv asks of it, under this run's own prefix. */
describeWithRedis('IoredisKeyvStore (Keyv over ioredis)', () => {
  const namespace = `girder_e2e_keyv_${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let store: IoredisKeyvStore;

  beforeAll(() => {
    redis = new Redis(e2eRedisUrl!);
    store = new IoredisKeyvStore(redis);
    store.namespace = namespace;
  });
  afterAll(async () => {
    for await (const keys of redis.scanStream({ match: `${namespace}*` }))
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    await redis.quit();
  });

  const key = (name: string) => `${namespace}:${name}`;

  it('stores the string it is given, with its TTL as a Redis expiry', async () => {
    await store.set(key('a'), '{"value":1}', 60_000);
    await store.set(key('forever'), '{"value":2}');
    expect(await store.get(key('a'))).toBe('{"value":1}');
    const ttl = await redis.pttl(key('a'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(key('forever'))).toBe(-1);
    expect(await store.get(key('missing'))).toBeUndefined();
  });

  it('a short TTL really expires', async () => {
    await store.set(key('short'), 'x', 30);
    await new Promise((done) => setTimeout(done, 80));
    expect(await store.get(key('short'))).toBeUndefined();
  });

  it('reads and deletes many; says whether anything was deleted', async () => {
    await store.set(key('m1'), '1');
    await store.set(key('m2'), '2');
    expect(await store.getMany([key('m1'), key('none'), key('m2')])).toEqual(['1', undefined, '2']);
    expect(await store.has(key('m1'))).toBe(true);
    expect(await store.deleteMany([key('m1'), key('m2')])).toBe(true);
    expect(await store.deleteMany([key('m1')])).toBe(false);
    expect(await store.delete(key('m1'))).toBe(false);
    expect(await store.has(key('m1'))).toBe(false);
  });

  it('clear deletes its namespace only, and refuses without one', async () => {
    const neighbour = `${namespace}_other:kept`;
    await redis.set(neighbour, 'x');
    await store.set(key('c1'), '1');
    await store.set(key('c2'), '2');
    await store.clear();
    expect(await redis.exists(key('c1'), key('c2'))).toBe(0);
    expect(await redis.get(neighbour)).toBe('x');

    const unnamed = new IoredisKeyvStore(redis);
    await expect(unnamed.clear()).rejects.toThrow(/namespace/);
    expect(await redis.get(neighbour)).toBe('x');
  });
});

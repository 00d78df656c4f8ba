import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type Redis from 'ioredis';
import { EventEmitter } from 'node:events';

/**
 * Keyv's storage interface over an ioredis client, so cache-manager runs on the one Redis
 * client library the rest of Girder uses. Keyv serialises values and prefixes keys with its
 * namespace (`<namespace>:<key>`); this stores the strings it is given, with Keyv's TTL as a
 * Redis expiry. Errors are not caught: Keyv passes them to the caller.
 */
export class IoredisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = {};
  namespace?: string;

  constructor(private readonly client: Redis) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return ((await this.client.get(key)) ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values.map((value) => (value ?? undefined) as StoredData<Value | undefined>);
  }

  async set(key: string, value: string, ttl?: number): Promise<void> {
    if (ttl && ttl > 0) await this.client.set(key, value, 'PX', Math.ceil(ttl));
    else await this.client.set(key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    return (await this.client.del(...keys)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(key)) > 0;
  }

  /** Deletes this namespace's keys (SCAN, not KEYS: it never blocks a shared Redis). */
  async clear(): Promise<void> {
    // Without a namespace this would empty the whole database, shared with the queues.
    if (!this.namespace) throw new Error('IoredisKeyvStore.clear needs a namespace');
    const match = `${this.namespace}:*`;
    for await (const keys of this.client.scanStream({ match, count: 1000 }))
      if ((keys as string[]).length > 0) await this.client.del(...(keys as string[]));
  }
}

import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type Redis from 'ioredis';
import { EventEmitter } from 'node:events';

/**
 * Keyv storage on an ioredis client, so cache-manager runs on the same client library (and
 * fail-fast settings) as the rest of Girder. It never clears Redis wholesale: a bare
 * `clear()` would take BullMQ's and the rate limiter's keys with it.
 */
export class IoRedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts = {};
  namespace?: string;

  constructor(private readonly client: Redis) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const value = await this.client.get(key);
    return (value ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values.map((value) => (value ?? undefined) as StoredData<Value | undefined>);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<void> {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (ttl && ttl > 0) await this.client.set(key, text, 'PX', Math.ceil(ttl));
    else await this.client.set(key, text);
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

  clear(): Promise<void> {
    return Promise.reject(
      new Error('The cache never clears Redis wholesale: invalidate by tag or prefix instead.'),
    );
  }
}

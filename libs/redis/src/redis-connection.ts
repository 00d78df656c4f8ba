import Redis, { RedisOptions } from 'ioredis';

/**
 * Options for clients that serve requests: commands fail fast while Redis is unreachable
 * instead of queueing forever, and reconnection keeps trying in the background.
 */
export const FAIL_FAST_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  enableOfflineQueue: true,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
};

export function createRedisClient(url: string, name: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...FAIL_FAST_REDIS_OPTIONS, connectionName: name, ...options });
}

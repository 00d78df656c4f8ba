import type Redis from 'ioredis';

/** Injection token of the shared ioredis client (`@InjectRedis()`). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** What `REDIS_CLIENT` holds: the shared client, or `null` when REDIS_URL is unset. */
export type SharedRedis = Redis | null;

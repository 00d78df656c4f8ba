/** Injection token of the shared ioredis client (`@InjectRedis()`). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

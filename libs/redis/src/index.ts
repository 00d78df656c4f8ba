export { FAIL_FAST_REDIS_OPTIONS, createRedisClient } from './redis-connection';
export { REDIS_CLIENT, type SharedRedis } from './redis.constants';
export { RedisKeys, redisKey } from './redis-keys';
export { InjectRedis, RedisModule } from './redis.module';

import { Injectable } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { AppConfig } from '@girder/config';
import { FAIL_FAST_REDIS_OPTIONS, RedisKeys } from '@girder/redis';

/**
 * The throttler's counters in Redis, shared by every API process. Its keys start with
 * `<REDIS_KEY_PREFIX>:throttle:` (the storage itself writes unprefixed keys). Commands fail
 * fast while Redis is unreachable; the guard answers 503 then. Being a provider, Nest closes
 * its connection on shutdown.
 */
@Injectable()
export class RateLimitStorage extends ThrottlerStorageRedisService {
  constructor(config: AppConfig, keys: RedisKeys) {
    super(config.get('REDIS_URL'), {
      ...FAIL_FAST_REDIS_OPTIONS,
      connectionName: 'girder-throttle',
      keyPrefix: keys.areaPrefix('throttle'),
    });
    this.redis.on('error', () => undefined); // RateLimitGuard reports outages.
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';

/**
 * `<prefix>:<area>:<parts…>`: the one spelling of every Redis key Girder writes, so a
 * deployment (or an e2e run) owns exactly the keys under its REDIS_KEY_PREFIX and can remove
 * them without touching anything else. Areas in use: `cache`, `cache-tag`,
 * `throttle`, `queue`; and the pub/sub channel `cache-invalidation`.
 */
export function redisKey(prefix: string, area: string, ...parts: Array<string | number>): string {
  return [prefix, area, ...parts].join(':');
}

/** `redisKey` with the configured REDIS_KEY_PREFIX, for injection. */
@Injectable()
export class RedisKeys {
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = config.get('REDIS_KEY_PREFIX');
  }

  key(area: string, ...parts: Array<string | number>): string {
    return redisKey(this.prefix, area, ...parts);
  }

  /** The prefix of an area's keys, with the trailing `:` (for clients that take a key prefix). */
  areaPrefix(area: string): string {
    return `${redisKey(this.prefix, area)}:`;
  }
}

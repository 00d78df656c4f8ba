import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';

/**
 * Builds namespaced Redis keys: `<REDIS_KEY_PREFIX>:<area>:<parts…>`. Every Girder feature
 * that writes to Redis goes through this, so a deployment (or an e2e run) owns exactly the
 * keys under its prefix and can remove them without touching anything else.
 */
@Injectable()
export class RedisKeys {
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = config.get('REDIS_KEY_PREFIX');
  }

  key(area: string, ...parts: Array<string | number>): string {
    return [this.prefix, area, ...parts].join(':');
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { InjectRedis, RedisKeys } from '@girder/redis';
import Redis from 'ioredis';

/**
 * Revoked session families, in Redis so every API process sees a logout at once. A record
 * lives as long as an access token can: after that the signature check alone rejects them.
 */
@Injectable()
export class SessionRevocations {
  private readonly ttlSeconds: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly keys: RedisKeys,
    config: AppConfig,
  ) {
    this.ttlSeconds = config.get('JWT_ACCESS_TTL') + 5;
  }

  async revoke(families: string[]): Promise<void> {
    if (families.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const family of families) pipeline.set(this.key(family), '1', 'EX', this.ttlSeconds);
    const results = await pipeline.exec();
    for (const [error] of results ?? []) {
      if (error) throw error;
    }
  }

  async isRevoked(family: string): Promise<boolean> {
    return (await this.redis.exists(this.key(family))) === 1;
  }

  private key(family: string): string {
    return this.keys.key('auth', 'revoked-session', family);
  }
}

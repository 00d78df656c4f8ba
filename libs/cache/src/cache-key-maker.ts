import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { stableSerialize } from './stable-serialize';

/**
 * Turns a prefix and argument values into a cache key. Replace the provider to change the
 * scheme (e.g. to add a tenant): `{ provide: CacheKeyMaker, useClass: TenantCacheKeyMaker }`.
 */
@Injectable()
export class CacheKeyMaker {
  make(prefix: string, args: readonly unknown[]): string {
    // Hashed so that long or hostile arguments give short keys of one alphabet.
    const digest = createHash('sha256').update(stableSerialize(args)).digest('base64url');
    return `${prefix}:${digest.slice(0, 32)}`;
  }
}

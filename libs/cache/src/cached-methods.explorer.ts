import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { CacheKeyMaker } from './cache-key-maker';
import { CacheService } from './cache.service';
import { CACHED_KEY, type CachedOptions } from './cached.decorator';

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/** Wraps every provider method marked `@Cached()` with a read-through cache. */
@Injectable()
export class CachedMethodsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
    private readonly keys: CacheKeyMaker,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, AsyncMethod>)[name];
        const options = this.reflector.get<CachedOptions | undefined>(CACHED_KEY, method);
        if (options) this.wrap(instance as Record<string, AsyncMethod>, name, method, options);
      }
    }
  }

  private wrap(
    instance: Record<string, AsyncMethod>,
    name: string,
    method: AsyncMethod,
    options: CachedOptions,
  ): void {
    const { cache, keys } = this;
    instance[name] = function cached(this: unknown, ...args: unknown[]): Promise<unknown> {
      const tags = options.tags
        ? (options.tags as (...values: unknown[]) => string[])(...args)
        : [];
      return cache.wrap(keys.make(options.prefix, args), () => method.apply(this, args), {
        ttl: options.ttl,
        tags,
        prefix: options.prefix,
      });
    };
  }
}

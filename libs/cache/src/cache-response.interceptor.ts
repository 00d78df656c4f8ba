import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  type StreamableFile,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { from, of, switchMap, type Observable } from 'rxjs';
import { CacheKeyMaker } from './cache-key-maker';
import { CacheService } from './cache.service';
import {
  CACHE_RESPONSE_KEY,
  type CacheableRequest,
  type CacheResponseOptions,
} from './cache-response.decorator';

type CacheableHttpRequest = Request & CacheableRequest;

/** The interceptor behind `@CacheResponse()`. */
@Injectable()
export class CacheResponseInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
    private readonly keys: CacheKeyMaker,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<CacheResponseOptions | undefined>(
      CACHE_RESPONSE_KEY,
      context.getHandler(),
    );
    const request = context.switchToHttp().getRequest<CacheableHttpRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    if (!options || request.method !== 'GET') return next.handle();
    if (options.scope === 'user' && !request.user) return next.handle();

    const caller = options.scope === 'user' ? request.user!.id : '*';
    const prefix = `http:${options.scope}`;
    const key = this.keys.make(prefix, [caller, request.originalUrl]);
    return from(this.cache.get<unknown>(key)).pipe(
      switchMap((cached) => {
        if (cached !== undefined) {
          response.setHeader('X-Cache', 'HIT');
          return of(cached);
        }
        response.setHeader('X-Cache', 'MISS');
        return next.handle().pipe(
          switchMap(async (body: unknown) => {
            if (response.statusCode === 200 && !isStream(body)) {
              await this.cache.set(key, body, {
                ttl: options.ttl,
                tags: options.tags?.(request),
                prefix,
              });
            }
            return body;
          }),
        );
      }),
    );
  }
}

function isStream(body: unknown): body is StreamableFile {
  return typeof body === 'object' && body !== null && 'getStream' in body;
}

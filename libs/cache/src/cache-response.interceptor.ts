import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  type StreamableFile,
  type Type,
  type ValidationPipe,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Reflector } from '@nestjs/core';
import { createValidationPipe } from '@girder/errors';
import { isUUID } from 'class-validator';
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

/** Path params in one spelling: UUIDs lower-case, so `/users/ABC…` and `/users/abc…` are one entry. */
function canonicalParams(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(params)
      .sort()
      // The same test as UuidParamPipe, which lower-cases the id the handler sees.
      .map((name) => [name, isUUID(params[name]) ? params[name].toLowerCase() : params[name]]),
  );
}

/** The class of the handler's whole-`@Query()` DTO, if it declares one. */
function queryDtoOf(context: ExecutionContext): Type | undefined {
  const handler = context.getHandler().name;
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler) ??
    {}) as Record<string, { index: number; data?: unknown }>;
  const prototype = context.getClass().prototype as object;
  const types = (Reflect.getMetadata('design:paramtypes', prototype, handler) ?? []) as Type[];
  for (const [key, arg] of Object.entries(args)) {
    if (key.startsWith(`${RouteParamtypes.QUERY}:`) && arg.data === undefined)
      return types[arg.index];
  }
  return undefined;
}

/**
 * The interceptor behind `@CacheResponse()`. The key is built from what the route declares,
 * never from the raw URL: the route's template, its path params (canonical), and the values
 * of its validated `@Query()` DTO. Query parameters a route does not declare are refused by
 * validation (routes with a DTO) or play no part in the key (routes without one), so
 * `?x=1`, `?x=2`, … cannot each make an entry.
 */
@Injectable()
export class CacheResponseInterceptor implements NestInterceptor {
  private readonly validation: ValidationPipe = createValidationPipe();
  private readonly queryDtos = new Map<object, Type | null>();

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

    return from(this.keyParts(context, request)).pipe(
      switchMap((parts) => {
        // Invalid query: the route's own pipe answers 400; nothing to cache.
        if (!parts) return next.handle();
        const caller = options.scope === 'user' ? request.user!.id : '*';
        const prefix = `http:${options.scope}`;
        const key = this.keys.make(prefix, [caller, ...parts.key]);
        // Known before the read, so the local level can drop the entry by tag.
        const tags = options.tags?.({
          params: parts.params,
          query: request.query,
          user: request.user,
        });
        const entry = { tags, prefix };
        return from(this.cache.lookup<unknown>(key, entry)).pipe(
          switchMap((found) => {
            if (found.hit) {
              response.setHeader('X-Cache', 'HIT');
              return of(found.value);
            }
            response.setHeader('X-Cache', 'MISS');
            return next.handle().pipe(
              switchMap(async (body: unknown) => {
                // Stored with the ticket of the lookup: an invalidation that arrived while the
                // handler ran keeps this answer out of process memory.
                if (response.statusCode === 200 && !isStream(body)) {
                  await found.store(body, options.ttl);
                }
                return body;
              }),
            );
          }),
        );
      }),
    );
  }

  private async keyParts(
    context: ExecutionContext,
    request: CacheableHttpRequest,
  ): Promise<{ key: unknown[]; params: Record<string, string> } | undefined> {
    const params = canonicalParams(request.params ?? {});
    const route =
      (request.route as { path?: string } | undefined)?.path ?? context.getHandler().name;
    const handler = context.getHandler();
    if (!this.queryDtos.has(handler)) this.queryDtos.set(handler, queryDtoOf(context) ?? null);
    const dto = this.queryDtos.get(handler);
    if (!dto) return { key: [route, params], params };
    try {
      const query: unknown = await this.validation.transform(request.query, {
        type: 'query',
        metatype: dto,
      });
      return { key: [route, params, { ...(query as object) }], params };
    } catch {
      return undefined;
    }
  }
}

function isStream(body: unknown): body is StreamableFile {
  return typeof body === 'object' && body !== null && 'getStream' in body;
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { ProblemException } from '@girder/errors';
import type {
  CurrentUser,
  Permission,
  PermissionAnswers,
  PermissionRequest,
} from '@girder/permissions';
import { createHash, timingSafeEqual } from 'node:crypto';

export const METRICS_TOKEN_REQUIRED =
  'The metrics need the scrape token: send Authorization: Bearer <METRICS_TOKEN>.';

const BEARER = /^Bearer\s+(.+)$/i;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether a request may read the metrics: always when METRICS_TOKEN is unset, else only with
 * `Authorization: Bearer <METRICS_TOKEN>`. The comparison runs over SHA-256 digests with
 * `timingSafeEqual`, so neither the token's content nor its length leaks through timing.
 */
export function hasMetricsToken(
  authorization: string | undefined,
  token: string | undefined,
): boolean {
  if (token === undefined || token === '') return true;
  const presented = BEARER.exec(authorization ?? '')?.[1]?.trim();
  const matches = timingSafeEqual(sha256(presented ?? ''), sha256(token));
  return presented !== undefined && matches;
}

/** The `WWW-Authenticate` challenge of a refused scrape (RFC 6750: `invalid_token` when one was sent). */
export function metricsTokenChallenge(authorization: string | undefined): string {
  return authorization === undefined
    ? 'Bearer realm="metrics"'
    : 'Bearer realm="metrics", error="invalid_token"';
}

/**
 * `@Permissions(HasMetricsToken)`: the caller presents METRICS_TOKEN as a bearer token (any
 * caller when it is unset). A refusal is thrown here rather than returned, so the 401 carries
 * its `WWW-Authenticate` challenge and is not replaced by the guard's JWT error (the guard
 * tries every bearer token as an access token first; the metrics token is not one).
 */
@Injectable()
export class HasMetricsToken implements Permission {
  /** A missing or wrong token is a 401; there is nobody to refuse with a 403. */
  static readonly answers: PermissionAnswers = { unauthorized: true, forbidden: false };

  constructor(private readonly config: AppConfig) {}

  hasPermission(_user: CurrentUser | null, request?: PermissionRequest): boolean {
    const header = request?.headers.authorization;
    const authorization = Array.isArray(header) ? header[0] : header;
    if (hasMetricsToken(authorization, this.config.get('METRICS_TOKEN'))) return true;
    throw new ProblemException('UNAUTHENTICATED', METRICS_TOKEN_REQUIRED, undefined, {
      'WWW-Authenticate': metricsTokenChallenge(authorization),
    });
  }
}

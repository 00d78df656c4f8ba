export const REDACTED = '[REDACTED]';

/** Keys whose values never reach a log line, at any depth, compared case-insensitively. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'password',
  'currentpassword',
  'newpassword',
  'refreshtoken',
  'accesstoken',
  'authorization',
  'cookie',
  'set-cookie',
  'passwordhash',
  'secret',
  'jwt_secret',
]);

const MAX_DEPTH = 8;

/**
 * A copy of `value` with every secret-named property replaced by `[REDACTED]`, however deep
 * it sits. Pino's path-based redaction cannot express "any depth", so log objects pass
 * through this. Errors and non-plain objects are left to pino's serializers.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;

  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    copy[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return copy;
}

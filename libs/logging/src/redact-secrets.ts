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

/** Property names declared secret with `@Secret()`, lower-cased. */
const declaredSecrets = new Set<string>();

/**
 * Marks a DTO property as secret: its value is redacted from every log line, at any depth,
 * wherever an object with a property of that name is logged (request bodies at debug
 * included). For fields whose names do not say "password" but carry one, e.g. an import CSV.
 */
export const Secret =
  (): PropertyDecorator =>
  (_target: object, property: string | symbol): void => {
    declaredSecrets.add(String(property).toLowerCase());
  };

const isSecretKey = (key: string): boolean => {
  const lower = key.toLowerCase();
  return SECRET_KEYS.has(lower) || declaredSecrets.has(lower);
};

/** Bodies are at most 32 levels deep (@girder/http refuses deeper ones); anything deeper is not shown. */
const MAX_DEPTH = 32;

/**
 * A copy of `value` with every secret-named property replaced by `[REDACTED]`, however deep
 * it sits. Pino's path-based redaction cannot express "any depth", so log objects pass
 * through this. Errors and non-plain objects are left to pino's serializers.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;

  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    copy[key] = isSecretKey(key) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return copy;
}

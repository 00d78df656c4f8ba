import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Catalogues of hostile inputs for the OpenAPI fuzz suite. Body values are raw JSON text (not
 * JS values) so that texts JavaScript cannot produce with JSON.stringify — `1e400`, `-0`, a
 * lone surrogate escape, 5,000 levels of nesting — reach the server byte for byte. Query and
 * path values are raw, already percent-encoded URL text for the same reason (`%00`, `%`,
 * malformed UTF-8).
 */
export interface Hostile {
  /** Short, stable description used in failure reports (e.g. `null`, `string 10k`). */
  kind: string;
  /** Raw JSON text (body values) or raw URL text (query and path values). */
  raw: string;
}

const json = (kind: string, value: unknown): Hostile => ({ kind, raw: JSON.stringify(value) });

/** `{"a":{"a":…1…}}` nested `depth` levels, built as text (JSON.stringify would recurse). */
export const nestedObjectJson = (depth: number): string =>
  '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** `[[[…1…]]]` nested `depth` levels. */
export const nestedArrayJson = (depth: number): string =>
  '['.repeat(depth) + '1' + ']'.repeat(depth);

/** Dates JavaScript, PostgreSQL or both cannot represent, or that are not dates at all. */
export const HOSTILE_DATES = [
  '9999999-01-01',
  '-271821-04-19T00:00:00Z',
  '-271821-04-20T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-14T00:00:00.000Z',
  '-200000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '0000-00-00',
  '0000-01-01T00:00:00Z',
  '2026-13-45',
  '2026-02-30',
  '2026-01-01T25:61:61Z',
];

/** Values tried in every body field, whatever its declared type. */
export function hostileBodyValues(): Hostile[] {
  return [
    { kind: 'null', raw: 'null' },
    // wrong types
    json('number 12345', 12345),
    json('true', true),
    json('false', false),
    json('string "x"', 'x'),
    json('numeric string "1"', '1'),
    json('boolean string "true"', 'true'),
    json('empty array', []),
    json('array of strings', ['x', 'y']),
    json('array [null]', [null]),
    json('empty object', {}),
    json('object {"a":1}', { a: 1 }),
    // NUL bytes and odd text
    json('NUL only', '\u0000'),
    json('NUL inside', 'fuzz\u0000value-123'),
    json('NUL in email', 'fuzz\u0000@example.com'),
    json('empty string', ''),
    json('whitespace', '   \t\n'),
    json('string 10k', 'a'.repeat(10_000)),
    json('string 200k', 'a'.repeat(200_000)),
    json('multibyte 10k', 'é'.repeat(10_000)),
    { kind: 'lone surrogate', raw: '"fuzz\\ud800value"' },
    json('SQL-ish', "' OR '1'='1'; --"),
    json('control chars', '\u0001\u0007\u001b[31m\u007f'),
    json('unicode', 'Ā̵̛͚𝔘𝔫𝔦😀\u202e'),
    // huge and odd numbers
    json('1e308', 1e308),
    json('-1e308', -1e308),
    json('2**53+1', 2 ** 53 + 1),
    json('-1', -1),
    json('0', 0),
    json('1.5', 1.5),
    { kind: 'JSON 1e400', raw: '1e400' },
    { kind: 'JSON -1e400', raw: '-1e400' },
    { kind: 'JSON 1e-400', raw: '1e-400' },
    { kind: 'JSON -0', raw: '-0' },
    { kind: 'JSON 2**64', raw: '18446744073709551616' },
    json('string "1e400"', '1e400'),
    json('string "NaN"', 'NaN'),
    // out-of-range dates
    ...HOSTILE_DATES.map((date) => json(`date ${date}`, date)),
    // prototype pollution shapes
    { kind: '__proto__ object', raw: '{"__proto__":{"polluted":true}}' },
    { kind: 'constructor.prototype', raw: '{"constructor":{"prototype":{"polluted":true}}}' },
  ];
}

/** Deeply nested values, tried in every body field and as an extra property. */
export function deepValues(): Hostile[] {
  return [
    { kind: 'object nested 5,000 deep', raw: nestedObjectJson(5_000) },
    { kind: 'array nested 5,000 deep', raw: nestedArrayJson(5_000) },
    // Still under the 100 kB body limit.
    { kind: 'array nested 40,000 deep', raw: nestedArrayJson(40_000) },
  ];
}

const b64url = (text: string): string => Buffer.from(text).toString('base64url');

/** Cursors this API never produced: base64url of tampered `[createdAt, id]` and garbage. */
export function tamperedCursors(): Hostile[] {
  const id = randomUUID();
  const pair = (createdAt: unknown, anId: unknown = id) => JSON.stringify([createdAt, anId]);
  return [
    ...HOSTILE_DATES.map((date) => ({ kind: `cursor date ${date}`, raw: b64url(pair(date)) })),
    { kind: 'cursor date number 1e308', raw: b64url(pair(1e308)) },
    { kind: 'cursor date number 8.64e15+1', raw: b64url(pair(8.64e15 + 1)) },
    { kind: 'cursor date 1e400 text', raw: b64url(`[1e400,"${id}"]`) },
    { kind: 'cursor date "1e400"', raw: b64url(pair('1e400')) },
    { kind: 'cursor date "0"', raw: b64url(pair('0')) },
    { kind: 'cursor date "-1"', raw: b64url(pair('-1')) },
    { kind: 'cursor date with NUL', raw: b64url(pair('2026-01-01T00:00:00.000Z\u0000')) },
    { kind: 'cursor id not uuid', raw: b64url(pair('2026-01-01T00:00:00.000Z', 'nope')) },
    {
      kind: 'cursor id upper-case uuid',
      raw: b64url(pair('2026-01-01T00:00:00.000Z', id.toUpperCase())),
    },
    {
      kind: 'cursor id nil uuid',
      raw: b64url(pair('2026-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000')),
    },
    { kind: 'cursor id number', raw: b64url(pair('2026-01-01T00:00:00.000Z', 1)) },
    { kind: 'cursor [null,null]', raw: b64url('[null,null]') },
    { kind: 'cursor []', raw: b64url('[]') },
    { kind: 'cursor 3 items', raw: b64url(`["2026-01-01T00:00:00.000Z","${id}","x"]`) },
    { kind: 'cursor object', raw: b64url(`{"createdAt":"2026-01-01T00:00:00.000Z","id":"${id}"}`) },
    { kind: 'cursor nested', raw: b64url(nestedArrayJson(60)) },
    { kind: 'cursor random bytes', raw: randomBytes(48).toString('base64url') },
    { kind: 'cursor garbage', raw: 'garbage' },
    { kind: 'cursor non-base64', raw: encodeURIComponent('!!!***$$$') },
    { kind: 'cursor padding only', raw: '====' },
    { kind: 'cursor 10k', raw: 'A'.repeat(10_000) },
  ];
}

/** Raw (percent-encoded) values for one query parameter `name=<raw>`. */
export function hostileQueryValues(): Hostile[] {
  return [
    { kind: 'empty', raw: '' },
    { kind: 'word', raw: 'abc' },
    { kind: '%00', raw: '%00' },
    { kind: 'NUL inside', raw: 'fuzz%00value' },
    { kind: 'NUL in email', raw: 'ada%00%40example.com' },
    { kind: '-1', raw: '-1' },
    { kind: '0', raw: '0' },
    { kind: '1.5', raw: '1.5' },
    { kind: '1e308', raw: '1e308' },
    { kind: '-1e308', raw: '-1e308' },
    { kind: '1e400', raw: '1e400' },
    { kind: '2**53+1', raw: '9007199254740993' },
    { kind: 'NaN', raw: 'NaN' },
    { kind: 'Infinity', raw: 'Infinity' },
    { kind: 'hex 0x10', raw: '0x10' },
    { kind: 'true', raw: 'true' },
    { kind: 'null', raw: 'null' },
    { kind: 'spaces', raw: '%20%20' },
    { kind: 'string 10k', raw: 'a'.repeat(10_000) },
    { kind: 'multibyte 2k', raw: encodeURIComponent('é'.repeat(2_000)) },
    { kind: 'lone %', raw: '%' },
    { kind: 'truncated %E0%A4%A', raw: '%E0%A4%A' },
    { kind: 'overlong UTF-8 %C0%AF', raw: '%C0%AF' },
    { kind: 'invalid UTF-8 %FF', raw: '%FF' },
    { kind: 'lone surrogate %ED%A0%80', raw: '%ED%A0%80' },
    { kind: 'SQL-ish', raw: encodeURIComponent("' OR '1'='1'; --") },
    ...HOSTILE_DATES.map((date) => ({ kind: `date ${date}`, raw: encodeURIComponent(date) })),
    ...tamperedCursors(),
  ];
}

/** Whole query strings that give one parameter a non-string shape (Express parses `a[b]`). */
export function structuralQueries(name: string): Hostile[] {
  return [
    { kind: 'repeated (array)', raw: `${name}=1&${name}=2` },
    { kind: 'brackets (array)', raw: `${name}[]=1` },
    { kind: 'object', raw: `${name}[a]=1` },
    { kind: 'indexed object', raw: `${name}[0]=1&${name}[1]=2` },
    { kind: 'deep brackets', raw: `${name}${'[a]'.repeat(30)}=1` },
    { kind: '__proto__ key', raw: `${name}[__proto__][polluted]=1` },
    { kind: 'bare key', raw: name },
  ];
}

/** Unknown query parameters, sent to every operation. */
export function unknownQueries(): Hostile[] {
  const many = Array.from({ length: 1_500 }, (_, i) => `p${i}=1`).join('&');
  return [
    { kind: 'unknown param', raw: 'fuzzUnknown=1' },
    { kind: 'unknown NUL param', raw: '%00=%00' },
    { kind: '__proto__ param', raw: '__proto__[polluted]=1' },
    { kind: 'constructor param', raw: 'constructor[prototype][polluted]=1' },
    { kind: 'hasOwnProperty param', raw: 'hasOwnProperty=1' },
    { kind: '1,500 params', raw: many },
    { kind: 'lone %', raw: '%' },
  ];
}

/** Raw path segments for `{id}`-style parameters. */
export function junkIds(): Hostile[] {
  const id = randomUUID();
  return [
    { kind: 'not a uuid', raw: 'not-a-uuid' },
    { kind: 'upper-case uuid', raw: id.toUpperCase() },
    { kind: 'random uuid', raw: randomUUID() },
    { kind: 'nil uuid', raw: '00000000-0000-0000-0000-000000000000' },
    { kind: 'max uuid', raw: 'ffffffff-ffff-ffff-ffff-ffffffffffff' },
    { kind: 'uuid v1 shape', raw: 'c232ab00-9414-11ec-b3c8-9f6bdeced846' },
    { kind: 'uuid without dashes', raw: id.replace(/-/g, '') },
    { kind: 'uuid in braces', raw: encodeURIComponent(`{${id}}`) },
    { kind: 'uuid + space', raw: `${id}%20` },
    { kind: 'uuid + NUL', raw: `${id}%00` },
    { kind: '%00', raw: '%00' },
    { kind: 'NUL inside', raw: 'a%00b' },
    { kind: '../../etc/passwd (raw)', raw: '../../etc/passwd' },
    { kind: '../../etc/passwd (encoded)', raw: encodeURIComponent('../../etc/passwd') },
    { kind: '%2E%2E%2F (encoded dots)', raw: '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd' },
    { kind: 'string 10k', raw: 'a'.repeat(10_000) },
    { kind: 'uuid x 200', raw: id.repeat(200) },
    { kind: 'multibyte 1k', raw: encodeURIComponent('é'.repeat(1_000)) },
    { kind: 'lone %', raw: '%' },
    { kind: 'truncated %E0%A4%A', raw: '%E0%A4%A' },
    { kind: 'invalid UTF-8 %FF', raw: '%FF' },
    { kind: 'null', raw: 'null' },
    { kind: 'undefined', raw: 'undefined' },
    { kind: '-1', raw: '-1' },
    { kind: '0', raw: '0' },
    { kind: '1e400', raw: '1e400' },
    { kind: '1.5', raw: '1.5' },
    { kind: 'SQL-ish', raw: encodeURIComponent("' OR '1'='1") },
    { kind: 'script tag', raw: encodeURIComponent('<script>alert(1)</script>') },
    { kind: '__proto__', raw: '__proto__' },
    { kind: 'constructor', raw: 'constructor' },
  ];
}

/** Values for `in: header` parameters (Node refuses to send NUL or non-Latin-1 headers). */
export function hostileHeaderValues(): Hostile[] {
  return [
    { kind: 'empty', raw: '' },
    { kind: 'string 10k', raw: 'a'.repeat(10_000) },
    { kind: 'percent NUL', raw: '%00' },
    { kind: 'latin-1', raw: 'ÿé' },
    { kind: 'tab', raw: 'HIT\tMISS' },
  ];
}

/** Authorization headers no client was ever issued. */
export function forgedAuthorizations(realToken: string): Hostile[] {
  const [header, , signature] = realToken.split('.');
  const part = (value: string) => Buffer.from(value).toString('base64url');
  const forgedPayload = part(
    `{"sub":"${randomUUID()}","role":"admin","sid":"${randomUUID()}","jti":"x","exp":1e400}`,
  );
  return [
    { kind: 'garbage bearer', raw: 'Bearer garbage' },
    { kind: 'empty bearer', raw: 'Bearer ' },
    { kind: 'bearer 10k', raw: `Bearer ${'a'.repeat(10_000)}` },
    { kind: 'basic auth', raw: `Basic ${part('admin:admin')}` },
    { kind: 'alg none, admin role', raw: `Bearer ${part('{"alg":"none"}')}.${forgedPayload}.` },
    { kind: 'real header, forged payload', raw: `Bearer ${header}.${forgedPayload}.${signature}` },
    {
      kind: 'payload 1e400 / nested',
      raw: `Bearer ${header}.${part(`{"sub":${nestedArrayJson(2_000)},"exp":1e400}`)}.${signature}`,
    },
    { kind: 'token with %00', raw: `Bearer ${realToken}%00` },
  ];
}

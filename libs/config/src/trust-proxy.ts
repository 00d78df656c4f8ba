import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isIP } from 'node:net';

/**
 * What Express's `trust proxy` setting takes, as TRUST_PROXY parses it:
 * - `false`: X-Forwarded-For is ignored, the client is the socket's peer (default);
 * - a hop count `n`: the socket's peer and the right-most `n - 1` X-Forwarded-For entries are
 *   proxies, the entry before them is the client (so a forged left-most entry is ignored);
 * - a list of proxy addresses, CIDRs and the names `loopback`, `linklocal`, `uniquelocal`: the
 *   client is the right-most address that is not one of them;
 * - `true`: every hop is believed, so the client is the left-most entry, which the client
 *   writes itself. Development and test only; production refuses it.
 */
export type TrustProxy = boolean | number | string[];

/** The named ranges proxy-addr (Express) knows. */
export const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

export const TRUST_PROXY_IN_PRODUCTION =
  'TRUST_PROXY=true believes every X-Forwarded-For hop, so clients can choose their IP; set the ' +
  'number of proxies in front of Girder, e.g. TRUST_PROXY=1, or their addresses';

/** `'false'` → false, `'true'` → true, `'2'` → 2, `'loopback, 10.0.0.0/8'` → a list. */
export function toTrustProxy({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'false') return false;
  if (lower === 'true') return true;
  if (/^[0-9]+$/.test(text)) return Number(text);
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const name = entry.toLowerCase();
      return (TRUST_PROXY_NAMES as readonly string[]).includes(name) ? name : entry;
    });
}

/** An IP address, a CIDR (`address/prefix` with a prefix length the address family allows) or a named range. */
export function isTrustedProxyEntry(entry: string): boolean {
  if ((TRUST_PROXY_NAMES as readonly string[]).includes(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const prefix = entry.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function invalidEntries(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  return (value as unknown[]).filter(
    (entry) => typeof entry !== 'string' || !isTrustedProxyEntry(entry),
  );
}

function isTrustProxy(value: unknown): boolean {
  if (typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return Array.isArray(value) && value.length > 0 && invalidEntries(value).length === 0;
}

/** Validates a parsed TRUST_PROXY; the message names the entries Express would not understand. */
export function IsTrustProxy(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTrustProxy',
      validator: {
        validate: (value: unknown) => isTrustProxy(value),
        defaultMessage: (args) => {
          const bad = invalidEntries(args?.value).map((entry) => JSON.stringify(entry));
          return (
            'TRUST_PROXY must be false, a hop count (the number of proxies in front of Girder, ' +
            'e.g. 1) or a comma-separated list of IP addresses, CIDRs and loopback, linklocal, ' +
            `uniquelocal${bad.length > 0 ? `; not understood: ${bad.join(', ')}` : ''}`
          );
        },
      },
    },
    options,
  );
}

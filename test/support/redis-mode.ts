/**
 * The suites run in the mode `npm test` was given: with E2E_REDIS_URL against that Redis,
 * without it on PostgreSQL alone (global-setup sets REDIS_URL accordingly).
 */
export const e2eRedisUrl: string | undefined = process.env.REDIS_URL || undefined;

/**
 * `describe` for suites about Redis itself (its outages, its keys). Without a Redis they are
 * skipped, and said to be: jest lists them as skipped and the run prints why.
 */
export function describeWithRedis(name: string, suite: () => void): void {
  if (e2eRedisUrl) {
    describe(name, suite);
    return;
  }
  process.stderr.write(`SKIPPED (needs Redis: set E2E_REDIS_URL to run it): ${name}\n`);
  describe.skip(`${name} [skipped: needs Redis, set E2E_REDIS_URL]`, suite);
}

/** `it` for a case about Redis itself inside a suite that runs in both modes; skipped likewise. */
export function itWithRedis(name: string, test: () => Promise<void>, timeoutMs?: number): void {
  if (e2eRedisUrl) {
    it(name, test, timeoutMs);
    return;
  }
  process.stderr.write(`SKIPPED (needs Redis: set E2E_REDIS_URL to run it): ${name}\n`);
  it.skip(`${name} [skipped: needs Redis, set E2E_REDIS_URL]`, test);
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Environment, SHIPPED_SECRETS } from './environment';
import {
  DATABASE_URL_MISSING,
  InvalidEnvironmentError,
  validateEnvironment,
} from './validate-environment';

const ROOT = join(__dirname, '../../..');
/** DATABASE_URL has no default (npm start provides an embedded PostgreSQL's). */
const DEVELOPMENT = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5433/girder' };
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/app',
  REDIS_URL: 'redis://cache:6379/0',
  JWT_SECRET: 'x'.repeat(40),
};

function problemsOf(raw: Record<string, string>): string[] {
  try {
    validateEnvironment(raw);
    return [];
  } catch (error) {
    return (error as InvalidEnvironmentError).problems;
  }
}

describe('validateEnvironment', () => {
  it('applies the development defaults when nothing else is set', () => {
    const env = validateEnvironment(DEVELOPMENT);
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe(DEVELOPMENT.DATABASE_URL);
    expect(env.REDIS_URL).toBeUndefined(); // PostgreSQL-only mode
    expect(env.DATABASE_READ_URLS).toEqual([]);
    expect(env.TRUST_PROXY).toBe(false);
    expect(env.LOG_PRETTY).toBeUndefined(); // automatic (see shouldPrettyPrint)
  });

  it('has no DATABASE_URL default: unset, it says in one line what to do', () => {
    expect(problemsOf({})).toEqual([DATABASE_URL_MISSING]);
    expect(DATABASE_URL_MISSING).not.toContain('\n');
    expect(DATABASE_URL_MISSING).toMatch(/^DATABASE_URL: .*npm start.*npm run db:start/);
    expect(problemsOf({ NODE_ENV: 'test' })).toEqual([DATABASE_URL_MISSING]);
  });

  it('production requires DATABASE_URL with one message, and never the development hint', () => {
    expect(problemsOf({ ...PRODUCTION, DATABASE_URL: '' })).toEqual([
      'DATABASE_URL: must be set in production',
    ]);
  });

  it('refuses CACHE_REDIS_URL without REDIS_URL (no Redis means none at all)', () => {
    const DATABASE_URL = 'postgres://db/girder';
    expect(() =>
      validateEnvironment({ DATABASE_URL, CACHE_REDIS_URL: 'redis://cache:6379/1' }),
    ).toThrow(/CACHE_REDIS_URL: needs REDIS_URL/);
    const env = validateEnvironment({
      DATABASE_URL,
      REDIS_URL: 'redis://queues:6379/0',
      CACHE_REDIS_URL: 'redis://cache:6379/1',
    });
    expect(env.CACHE_REDIS_URL).toBe('redis://cache:6379/1');
  });

  it('converts types and splits lists', () => {
    const env = validateEnvironment({
      ...DEVELOPMENT,
      PORT: '8080',
      TRUST_PROXY: 'true',
      DATABASE_READ_URLS: 'postgres://a/db, postgres://b/db',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
    });
    expect(env.PORT).toBe(8080);
    expect(env.TRUST_PROXY).toBe(true);
    expect(env.DATABASE_READ_URLS).toEqual(['postgres://a/db', 'postgres://b/db']);
    expect(env.CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('names every bad variable in one error', () => {
    let caught: unknown;
    try {
      validateEnvironment({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://nope',
        REDIS_URL: 'localhost',
        JWT_SECRET: 'short',
        LOG_LEVEL: 'loud',
        TRUST_PROXY: 'maybe',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEnvironmentError);
    const error = caught as InvalidEnvironmentError;
    const named = error.problems.map((problem) => problem.split(':')[0]);
    expect(named).toEqual(
      ['DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL', 'PORT', 'REDIS_URL', 'TRUST_PROXY'].sort(),
    );
    for (const name of named) expect(error.message).toContain(name);
  });

  it('requires real secrets in production', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL: must be set in production[\s\S]*JWT_SECRET: must be set in production/,
    );
    expect(() =>
      validateEnvironment({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/app',
        REDIS_URL: 'redis://cache:6379/0',
        JWT_SECRET: 'x'.repeat(40),
      }),
    ).not.toThrow();
  });

  describe("TRUST_PROXY takes what Express's trust proxy takes", () => {
    const trustProxy = (value: string, nodeEnv = 'development') =>
      validateEnvironment({
        NODE_ENV: nodeEnv,
        TRUST_PROXY: value,
        ...(nodeEnv === 'production'
          ? {
              DATABASE_URL: 'postgres://db/app',
              REDIS_URL: 'redis://cache:6379/0',
              JWT_SECRET: 'p'.repeat(40),
            }
          : DEVELOPMENT),
      }).TRUST_PROXY;
    const refusal = (value: string, nodeEnv = 'development'): string[] => {
      try {
        trustProxy(value, nodeEnv);
        return [];
      } catch (error) {
        return (error as InvalidEnvironmentError).problems;
      }
    };

    it('false (also empty or unset): X-Forwarded-For is not believed', () => {
      expect(trustProxy('false')).toBe(false);
      expect(trustProxy(' FALSE ')).toBe(false);
      expect(trustProxy('')).toBe(false);
      expect(validateEnvironment(DEVELOPMENT).TRUST_PROXY).toBe(false);
    });

    it('a hop count is a number (1 is one proxy, not "true")', () => {
      expect(trustProxy('1')).toBe(1);
      expect(trustProxy('0')).toBe(0);
      expect(trustProxy('2', 'production')).toBe(2);
    });

    it('a comma-separated list of addresses, CIDRs and named ranges', () => {
      expect(
        trustProxy('loopback, 10.0.0.0/8,192.168.1.7 , fd00::/8, ::1, LinkLocal,uniquelocal'),
      ).toEqual([
        'loopback',
        '10.0.0.0/8',
        '192.168.1.7',
        'fd00::/8',
        '::1',
        'linklocal',
        'uniquelocal',
      ]);
      expect(trustProxy('172.16.0.0/12', 'production')).toEqual(['172.16.0.0/12']);
    });

    it.each([
      'maybe',
      'yes',
      '-1',
      '1.5',
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '256.0.0.1',
      'loopback, proxy.internal',
      '1, 2',
      'true, 10.0.0.1',
      ',',
    ])('refuses %p, naming TRUST_PROXY', (value) => {
      const problems = refusal(value);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: TRUST_PROXY must be false, a hop count/);
    });

    it('names the entries it does not understand', () => {
      expect(refusal('loopback, proxy.internal, 10.0.0.0/40')[0]).toContain(
        'not understood: "proxy.internal", "10.0.0.0/40"',
      );
    });

    it('true is Express\'s "believe every hop" in development and test, and refused in production', () => {
      expect(trustProxy('true')).toBe(true);
      expect(trustProxy('true', 'test')).toBe(true);
      expect(refusal('true', 'production')).toEqual([
        'TRUST_PROXY: TRUST_PROXY=true believes every X-Forwarded-For hop, so clients can choose ' +
          'their IP; set the number of proxies in front of Girder, e.g. TRUST_PROXY=1, or their addresses',
      ]);
    });
  });

  describe('METRICS_TOKEN', () => {
    it('is optional, and at least 16 characters when set', () => {
      expect(validateEnvironment(DEVELOPMENT).METRICS_TOKEN).toBeUndefined();
      expect(
        validateEnvironment({ ...DEVELOPMENT, METRICS_TOKEN: '' }).METRICS_TOKEN,
      ).toBeUndefined();
      expect(
        validateEnvironment({ ...DEVELOPMENT, METRICS_TOKEN: 'm'.repeat(16) }).METRICS_TOKEN,
      ).toBe('m'.repeat(16));
      expect(() => validateEnvironment({ ...DEVELOPMENT, METRICS_TOKEN: 'short' })).toThrow(
        /METRICS_TOKEN: METRICS_TOKEN must be at least 16 characters/,
      );
    });
  });

  describe('production secrets', () => {
    it.each(SHIPPED_SECRETS.JWT_SECRET)('refuses the shipped JWT_SECRET %s', (secret) => {
      const problems = problemsOf({ ...PRODUCTION, JWT_SECRET: secret });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^JWT_SECRET: is a value published in this repository/);
    });

    it('refuses a JWT_SECRET under 32 characters', () => {
      expect(problemsOf({ ...PRODUCTION, JWT_SECRET: 'y'.repeat(31) })).toEqual([
        expect.stringMatching(/^JWT_SECRET: .*at least 32 characters/),
      ]);
    });

    it.each(SHIPPED_SECRETS.ADMIN_PASSWORD)('refuses the shipped ADMIN_PASSWORD %s', (password) => {
      const problems = problemsOf({
        ...PRODUCTION,
        ADMIN_EMAIL: 'root@example.com',
        ADMIN_PASSWORD: password,
      });
      expect(problems).toEqual([
        expect.stringMatching(/^ADMIN_PASSWORD: is a value published in this repository/),
      ]);
    });

    it('refuses an ADMIN_PASSWORD under 12 characters, or none, when an admin is seeded', () => {
      const admin = { ...PRODUCTION, ADMIN_EMAIL: 'root@example.com' };
      expect(problemsOf({ ...admin, ADMIN_PASSWORD: 'elevenchars' })).toEqual([
        expect.stringMatching(/^ADMIN_PASSWORD: must be at least 12 characters/),
      ]);
      expect(problemsOf(admin)).toEqual([expect.stringMatching(/^ADMIN_PASSWORD: must be set/)]);
      expect(problemsOf({ ...admin, ADMIN_PASSWORD: 'a-long-enough-password' })).toEqual([]);
    });

    it('seeds no admin in production unless ADMIN_EMAIL is set', () => {
      const env = validateEnvironment(PRODUCTION);
      expect(env.ADMIN_EMAIL).toBeUndefined();
      expect(env.ADMIN_PASSWORD).toBeUndefined();
    });
  });

  it('an empty ADMIN_EMAIL or ADMIN_PASSWORD means "seed no admin", not the development one', () => {
    expect(validateEnvironment(DEVELOPMENT).ADMIN_EMAIL).toBe('admin@girder.local');
    for (const raw of [{ ADMIN_EMAIL: '' }, { ADMIN_PASSWORD: '' }]) {
      const env = validateEnvironment({ ...DEVELOPMENT, ...raw });
      expect(env.ADMIN_EMAIL).toBeUndefined();
      expect(env.ADMIN_PASSWORD).toBeUndefined();
    }
  });

  it('lists every secret that ships in the repository', () => {
    const shipped = [...SHIPPED_SECRETS.JWT_SECRET, ...SHIPPED_SECRETS.ADMIN_PASSWORD];
    const defaults = new Environment();
    const found = [defaults.JWT_SECRET, defaults.ADMIN_PASSWORD];
    for (const file of ['.env.example', 'docker-compose.yml', 'test/support/global-setup.ts']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      // NAME=value (.env), NAME: ${NAME:-value} (compose), NAME: 'value' (TypeScript).
      const assignments =
        /(?:JWT_SECRET|ADMIN_PASSWORD)(?:=|:\s*\$\{\w+:-|:\s*')([^\s'"}?:$<][^\s'"}?:]*)/g;
      for (const match of text.matchAll(assignments)) found.push(match[1]);
    }
    expect(found.length).toBeGreaterThanOrEqual(4);
    expect(found.filter((value) => !shipped.includes(value!))).toEqual([]);
  });
});

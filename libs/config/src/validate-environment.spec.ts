import { InvalidEnvironmentError, validateEnvironment } from './validate-environment';

describe('validateEnvironment', () => {
  it('applies the development defaults when nothing is set', () => {
    const env = validateEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/girder');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379/0');
    expect(env.DATABASE_READ_URLS).toEqual([]);
    expect(env.TRUST_PROXY).toBe(false);
  });

  it('converts types and splits lists', () => {
    const env = validateEnvironment({
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
});

import { REDACTED, Secret, redactSecrets } from './redact-secrets';

class ImportLike {
  @Secret()
  spreadsheet!: string;
}

describe('redactSecrets', () => {
  it('redacts secret keys at any depth and in arrays', () => {
    const input = {
      email: 'a@b.c',
      password: 'hunter22',
      nested: { deeper: { refreshToken: 'r', accessToken: 'a', currentPassword: 'c' } },
      rows: [{ password: 'p', name: 'n' }],
      headers: { Authorization: 'Bearer x', cookie: 'sid=1' },
    };
    expect(redactSecrets(input)).toEqual({
      email: 'a@b.c',
      password: REDACTED,
      nested: {
        deeper: { refreshToken: REDACTED, accessToken: REDACTED, currentPassword: REDACTED },
      },
      rows: [{ password: REDACTED, name: 'n' }],
      headers: { Authorization: REDACTED, cookie: REDACTED },
    });
  });

  it('does not modify the original object', () => {
    const input = { password: 'secret' };
    redactSecrets(input);
    expect(input.password).toBe('secret');
  });

  it('passes scalars and errors through', () => {
    const error = new Error('boom');
    expect(redactSecrets('text')).toBe('text');
    expect(redactSecrets(42)).toBe(42);
    expect(redactSecrets(error)).toBe(error);
  });

  it('redacts properties declared @Secret(), wherever an object with that name is logged', () => {
    expect(new ImportLike()).toBeInstanceOf(ImportLike);
    expect(redactSecrets({ body: { payload: { Spreadsheet: 'a,b,pw', rows: 2 } } })).toEqual({
      body: { payload: { Spreadsheet: REDACTED, rows: 2 } },
    });
  });

  it('never shows what lies deeper than it walks', () => {
    let deep: unknown = { password: 'deep-secret' };
    for (let level = 0; level < 40; level += 1) deep = { next: deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain('deep-secret');
  });
});

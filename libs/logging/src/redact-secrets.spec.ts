import { REDACTED, redactSecrets } from './redact-secrets';

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
});

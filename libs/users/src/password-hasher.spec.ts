import type { AppConfig } from '@girder/config';
import { PasswordHasher } from './password-hasher';

const config = {
  get: (key: string) =>
    ({
      PASSWORD_HASH_MEMORY_KIB: 19_456,
      PASSWORD_HASH_ITERATIONS: 2,
      PASSWORD_HASH_PARALLELISM: 1,
      PASSWORD_HASH_CONCURRENCY: 2,
    })[key],
} as unknown as AppConfig;

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(config);

  it('hashes with argon2id and the configured cost, salted', async () => {
    const first = await hasher.hash('correct-horse');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.hash('correct-horse')).not.toBe(first);
  });

  it('verifies the right password only, and never throws on a malformed hash', async () => {
    const stored = await hasher.hash('correct-horse');
    expect(await hasher.verify(stored, 'correct-horse')).toBe(true);
    expect(await hasher.verify(stored, 'wrong-horse')).toBe(false);
    expect(await hasher.verify('not-a-hash', 'correct-horse')).toBe(false);
    expect(await hasher.verifyAgainstDummy('anything')).toBe(false);
  });
});

import { Injectable } from '@nestjs/common';
import { hash, verify, type Options } from '@node-rs/argon2';
import { AppConfig } from '@girder/config';

/** @node-rs/argon2's `Algorithm.Argon2id` (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2 as NonNullable<Options['algorithm']>;

/**
 * argon2id hashing with the cost from config. Runs on libuv's thread pool, so hashing does not
 * block the event loop. `verifyAgainstDummy` spends the same time as a real check, so an unknown
 * email and a wrong password cannot be told apart by timing.
 */
@Injectable()
export class PasswordHasher {
  private readonly options: Options;
  private dummyHash?: Promise<string>;

  constructor(config: AppConfig) {
    this.options = {
      algorithm: ARGON2ID,
      memoryCost: config.get('PASSWORD_HASH_MEMORY_KIB'),
      timeCost: config.get('PASSWORD_HASH_ITERATIONS'),
      parallelism: config.get('PASSWORD_HASH_PARALLELISM'),
    };
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash('girder-dummy-password-for-timing');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}

import { Injectable } from '@nestjs/common';
import { hash, verify, type Options } from '@node-rs/argon2';
import { AppConfig } from '@girder/config';
import { HashingQueue } from './hashing-queue';

/** Hashes waiting beyond this many answer 503 instead of queueing without bound. */
const MAX_WAITING_HASHES = 500;

/** @node-rs/argon2's `Algorithm.Argon2id` (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2 as NonNullable<Options['algorithm']>;

/**
 * argon2id hashing with the cost from config. Runs on libuv's thread pool, so hashing does not
 * block the event loop, through a bounded queue (PASSWORD_HASH_CONCURRENCY at once, logins
 * first), so a burst of sign-ups cannot starve logins or the pool's other users. `verifyAgainstDummy` spends the same time as a real check, so an unknown
 * email and a wrong password cannot be told apart by timing.
 */
@Injectable()
export class PasswordHasher {
  private readonly options: Options;
  private readonly queue: HashingQueue;
  private dummyHash?: Promise<string>;

  constructor(config: AppConfig) {
    this.options = {
      algorithm: ARGON2ID,
      memoryCost: config.get('PASSWORD_HASH_MEMORY_KIB'),
      timeCost: config.get('PASSWORD_HASH_ITERATIONS'),
      parallelism: config.get('PASSWORD_HASH_PARALLELISM'),
    };
    this.queue = new HashingQueue(config.get('PASSWORD_HASH_CONCURRENCY'), MAX_WAITING_HASHES);
  }

  hash(password: string): Promise<string> {
    return this.queue.run('hash', () => hash(password, this.options));
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    return this.queue.run('verify', async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    });
  }

  async verifyAgainstDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash('girder-dummy-password-for-timing');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}

import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: refresh tokens and the tokens in account mails. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The tokens are high-entropy, so a fast hash is enough (no salt or argon2 needed). */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe. Opaque to clients. */
export function generateRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Refresh tokens are high-entropy, so a fast hash is enough (no salt or argon2 needed). */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

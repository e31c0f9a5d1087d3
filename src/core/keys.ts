import { createHash, randomBytes } from 'node:crypto';

/** Length of every key {@link generateKey} makes: 30 bytes in base64url, which fits the seed's `char(40)`. */
export const KEY_LENGTH = 40;

const WELL_FORMED_KEY = /^[A-Za-z0-9+/=_-]{1,40}$/;

/** A new session key: 30 bytes from the OS CSPRNG (240 bits of entropy) as 40 base64url characters. */
export function generateKey(): string {
  return randomBytes(30).toString('base64url');
}

/**
 * True when `key` could be a key: 1 to 40 base64 or base64url characters.
 * Anything else is answered `NotFound` without reaching the store.
 */
export function isWellFormedKey(key: string): boolean {
  return WELL_FORMED_KEY.test(key);
}

/**
 * What a store keeps instead of the key when keys are hashed at rest: the
 * SHA-256 of the key as base64url, cut to 40 characters (240 bits) so that it
 * fits the seed's `char(40)` column. A dump of the store holds no usable cookie.
 */
export function digestKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, KEY_LENGTH);
}

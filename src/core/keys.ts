import * as crypto from 'node:crypto';

/** Length of every key {@link generateKey} makes: 30 bytes in base64url, which fits ocaml-session's `char(40)` key column. */
export const KEY_LENGTH = 40;

/** The characters a key may hold: base64 and base64url letters, digits, `+/=_-` (its length is checked apart). */
const KEY_CHARACTERS = /^[-A-Za-z0-9+/=_]+$/;

/** A new session key: 30 bytes from the OS CSPRNG (240 bits of entropy) as 40 base64url characters. */
export function generateKey(): string {
  return crypto.randomBytes(30).toString('base64url');
}

// Write tokens: 8 random base64url characters per process (48 bits), then a counter in base 36.
const WRITE_TOKEN_PREFIX = crypto.randomBytes(6).toString('base64url');
let writeTokenCounter = 0;

/**
 * A token no other write of any process holds, which a backend stores with a
 * write so that a write whose reply was lost can be settled by reading it
 * back: a random prefix drawn once per process, then a counter (12 characters
 * for the first 2 million writes, at most 19). Drawing 48 random bits per
 * process makes two processes of a million sharing a prefix a
 * one-in-500-million event; drawing per write would cost a call into the
 * random source on every write.
 */
export function newWriteToken(): string {
  writeTokenCounter += 1;
  return WRITE_TOKEN_PREFIX + writeTokenCounter.toString(36);
}

/**
 * True when `key` could be a key: 1 to 40 base64 or base64url characters.
 * Anything else is answered `NotFound` without reaching the store.
 */
export function isWellFormedKey(key: string): boolean {
  // A regular expression, not a loop over charCodeAt: this runs on every operation (the cookie's read, the
  // store's get and write), and keys come as strings of several representations, on which the loop's
  // charCodeAt went through a generic inline cache. Callgrind, memory counter app: 4,000 instructions a
  // request over the three checks before, 2,300 after. The length is checked apart: a counted {1,40}
  // costs irregexp about as much as the loop did.
  return key.length <= KEY_LENGTH && KEY_CHARACTERS.test(key);
}

/**
 * What a store keeps instead of the key when keys are hashed at rest: the
 * SHA-256 of the key as base64url, cut to 40 characters (240 bits) so that it
 * fits ocaml-session's `char(40)` column. A dump of the store holds no usable cookie.
 */
export function digestKey(key: string): string {
  const cached = recentDigests.get(key);
  if (cached !== undefined) return cached;
  const digest = sha256Base64url(key).slice(0, KEY_LENGTH);
  // Key-sized inputs only, so the cache holds at most RECENT_DIGESTS short strings.
  if (key.length <= KEY_LENGTH) {
    if (recentDigests.size >= RECENT_DIGESTS) recentDigests.clear();
    recentDigests.set(key, digest);
  }
  return digest;
}

/**
 * Digests of the keys used last: one request digests its key for the read
 * and again for the write (and for events), and a digest costs a SHA-256.
 * Emptied whenever it is full, so it holds a bounded number of recent keys,
 * which this process holds anyway while their requests run.
 */
const RECENT_DIGESTS = 1024;
const recentDigests = new Map<string, string>();

// crypto.hash (Node >= 20.12) is a third of the cost of createHash for a short input; every operation pays it.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;
const sha256Base64url: (data: string) => string =
  oneShotHash !== undefined
    ? (data) => oneShotHash('sha256', data, 'base64url')
    : (data) => crypto.createHash('sha256').update(data).digest('base64url');

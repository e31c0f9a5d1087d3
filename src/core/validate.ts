/** Default bound on a value's size: 1 MiB of UTF-8. */
export const DEFAULT_MAX_VALUE_BYTES = 1_048_576;

/** Throws a `TypeError` unless `key` is a string at run time (its shape is checked separately: a bad shape is `NotFound`). */
export function assertKeyIsString(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`session key must be a string, got ${typeof key}`);
}

/**
 * Throws a `TypeError` unless `value` can be stored by every backend: a string
 * without U+0000 and without lone surrogates (PostgreSQL `text` holds neither),
 * at most `maxValueBytes` bytes of UTF-8.
 */
export function assertStorableValue(value: unknown, maxValueBytes: number): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`session value must be a string, got ${typeof value}`);
  if (value.includes('\u0000')) throw new TypeError('session value must not contain U+0000');
  if (!value.isWellFormed()) throw new TypeError('session value must not contain a lone surrogate');
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short values skip the count.
  if (value.length * 3 > maxValueBytes && Buffer.byteLength(value, 'utf8') > maxValueBytes) {
    throw new TypeError(`session value is over maxValueBytes (${maxValueBytes})`);
  }
}

/** Throws a `TypeError` unless `n` is a whole number >= `min`; used for options read in constructors. */
export function assertWholeNumberOption(n: unknown, name: string, min: number): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw new TypeError(`${name} must be a whole number >= ${min}, got ${String(n)}`);
  }
}

/** Longest owner id accepted, in UTF-16 units. */
export const MAX_OWNER_LENGTH = 256;

/** Throws a `TypeError` unless `owner` is 1 to 256 characters that any store can hold. */
export function assertOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string') throw new TypeError(`owner must be a string, got ${typeof owner}`);
  if (owner.length === 0 || owner.length > MAX_OWNER_LENGTH) throw new TypeError(`owner must be 1 to ${MAX_OWNER_LENGTH} characters`);
  if (owner.includes('\u0000') || !owner.isWellFormed()) throw new TypeError('owner must not contain U+0000 or a lone surrogate');
}

/**
 * True when `value` is an object or a function (postgres.js's `sql` is one)
 * whose properties have these `typeof`s: how a capability or a driver's
 * client is recognised.
 */
export function hasShape(value: unknown, shape: Readonly<Record<string, 'function' | 'string' | 'boolean' | 'number' | 'object'>>): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  for (const [name, type] of Object.entries(shape)) if (typeof (value as Record<string, unknown>)[name] !== type) return false;
  return true;
}

/** Throws a `TypeError` when `keyDigest` is not a string (a digest from untyped code, e.g. a form field). */
export function assertKeyDigestIsString(keyDigest: unknown): asserts keyDigest is string {
  if (typeof keyDigest !== 'string') throw new TypeError('keyDigest must be a string');
}

/** The JSON object `text` holds, or undefined for anything else (not JSON, an array, a primitive); never throws. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

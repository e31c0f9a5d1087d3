/** One week in seconds: the default period of every backend, as in the seed. */
export const ONE_WEEK = 604_800;

/** Throws a `TypeError` unless `seconds` is a whole number (negative and zero are allowed: already expired). */
export function assertWholeSeconds(seconds: unknown, name: string): asserts seconds is number {
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds)) {
    throw new TypeError(`${name} must be a whole number of seconds, got ${String(seconds)}`);
  }
}

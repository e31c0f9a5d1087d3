/** One week in seconds: the default period of every backend, as in ocaml-session. */
export const ONE_WEEK = 604_800;

/** Largest expiry, in seconds, any backend accepts (about 68 years): it fits a 32-bit integer in every store. */
export const MAX_EXPIRY_SECONDS = 2_147_483_647;

/**
 * Throws a `TypeError` unless `seconds` is a whole number within
 * ±{@link MAX_EXPIRY_SECONDS}; zero and negative are allowed (already expired).
 */
export function assertWholeSeconds(seconds: unknown, name: string): asserts seconds is number {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || Math.abs(seconds) > MAX_EXPIRY_SECONDS) {
    throw new TypeError(`${name} must be a whole number of seconds within ±${MAX_EXPIRY_SECONDS}, got ${String(seconds)}`);
  }
}

/** Whole seconds from `nowMs` to `expiresAtMs`, rounded, never negative: the `period` and `expiresInSeconds` every backend reports. */
export function secondsLeft(expiresAtMs: number, nowMs: number): number {
  return Math.max(0, Math.round((expiresAtMs - nowMs) / 1000));
}

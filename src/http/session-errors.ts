/**
 * Session data that would not fit the store: its JSON envelope is over
 * `maxDataBytes`. Thrown where the data is written (`set`, `update`, or the
 * commit) before anything reaches the store, so nothing is half-written.
 */
export class SessionDataTooLargeError extends TypeError {
  override readonly name = 'SessionDataTooLargeError';
  readonly code = 'too_large' as const;
  /** Size the session would have, in bytes of UTF-8. */
  readonly bytes: number;
  /** The limit, in bytes of UTF-8. */
  readonly maxBytes: number;

  constructor(bytes: number, maxBytes: number) {
    super(`session data is ${bytes} bytes, over the limit of ${maxBytes} bytes`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/**
 * A read-modify-write lost every compare-and-set race it ran: after
 * `maxUpdateAttempts` attempts the session still changed under it. Nothing of
 * this attempt was written.
 */
export class SessionConflictError extends Error {
  override readonly name = 'SessionConflictError';
  readonly code = 'conflict' as const;
  /** Compare-and-set attempts made. */
  readonly attempts: number;

  constructor(attempts: number) {
    super(`session changed concurrently ${attempts} times in a row; giving up`);
    this.attempts = attempts;
  }
}

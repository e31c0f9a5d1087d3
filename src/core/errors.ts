/** What kind of store failure a {@link BackendError} reports. */
export type BackendErrorCode =
  /** The store could not be reached (connection refused, reset, closed, too many connections, shutting down); a write that reports it was not applied. */
  | 'unavailable'
  /** No answer within the backend's `timeoutMs`; a write that reports it was not applied and never will be. */
  | 'timeout'
  /**
   * A write whose fate the backend could not learn within the caller's deadline (the connection died or the
   * deadline passed after the write was sent, and reading its write token back failed too): it may have been
   * applied, at most once. Rare by design; reads never report it.
   */
  | 'indeterminate'
  /** The store answered with an error (bad table, permissions, constraint). */
  | 'query_failed'
  /** The backend was closed before or during the operation. */
  | 'closed'
  /** The table lacks what the operation needs (e.g. the owner column): run `migrate`. */
  | 'schema_outdated'
  /** The table does not exist: create it with `ensureSchema()` or `sessionkit migrate --table <name>`. */
  | 'schema_missing';

/**
 * A store failure. Match on `code`, never on the message; the driver's error
 * is kept in `cause`. Absence of a session is never a `BackendError`.
 *
 * The outcome model of every write (docs/decisions.md, "Every outcome is true"): a write that resolves was stored
 * exactly once; one that rejects with any code but `indeterminate` (or a compare-and-set that answers `conflict` or
 * `NotFound`) was not stored and will not be stored later; `indeterminate` alone says "may have been stored, once".
 */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly code: BackendErrorCode;

  constructor(code: BackendErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for a {@link BackendError}, also one made by another copy of this package. */
export function isBackendError(error: unknown): error is BackendError {
  return error instanceof BackendError || (error instanceof Error && error.name === 'BackendError' && 'code' in error);
}

/**
 * A login refused by the owner's session limit: `generate({ owner })` found
 * the owner already at `maxSessionsPerOwner` live sessions on a backend whose
 * `onMaxSessionsPerOwner` is `'refuse'`. Nothing was stored and no session of
 * the owner was touched (the outcome model's "not stored"). Not a
 * `BackendError`: the store worked, the owner is full. The HTTP adapters
 * answer it 409 without `Set-Cookie`.
 */
export class OwnerSessionLimitError extends Error {
  override readonly name = 'OwnerSessionLimitError';
  readonly code = 'owner_session_limit' as const;
  /** The limit the owner is at: its live sessions, counted as the backend counts them. */
  readonly maxSessionsPerOwner: number;

  constructor(maxSessionsPerOwner: number) {
    super(`the owner already has ${maxSessionsPerOwner} live sessions (maxSessionsPerOwner); this login stored nothing`);
    this.maxSessionsPerOwner = maxSessionsPerOwner;
  }
}

/** True for an {@link OwnerSessionLimitError}, also one made by another copy of this package. */
export function isOwnerSessionLimitError(error: unknown): error is OwnerSessionLimitError {
  return error instanceof OwnerSessionLimitError || (error instanceof Error && error.name === 'OwnerSessionLimitError' && 'maxSessionsPerOwner' in error);
}

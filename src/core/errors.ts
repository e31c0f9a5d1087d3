/** What kind of store failure a {@link BackendError} reports. */
export type BackendErrorCode =
  /** The store could not be reached (connection refused, reset, closed, too many connections, shutting down). */
  | 'unavailable'
  /** No answer within the backend's `timeoutMs`; the operation may or may not have taken effect. */
  | 'timeout'
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

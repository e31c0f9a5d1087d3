import { BackendError } from '../../core/errors.js';

/** The error's SQLSTATE; undefined for an error without one (it comes from the socket or the driver, not the server). */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** What a failure message names besides the operation. */
export interface FailureContext {
  /** The table as the user named it (unquoted), for the hint on a missing table. */
  table?: string | undefined;
  /** The server tried, as `host:port/database` (never the password). */
  where?: string | undefined;
}

/**
 * Maps a driver's error to a {@link BackendError}. SQLSTATE classes decide:
 * 08 (connection), 53300 (too many connections) and 57P0x (shutdown,
 * restart, terminated, idle_session_timeout) → unavailable; 57014 statement
 * timeout and 55P03 lock timeout → timeout (the statement was rolled back);
 * 42P01 on the session table → schema_missing; 42P10 (no unique index for
 * ON CONFLICT) → schema_outdated; an error without a SQLSTATE
 * comes from the socket: unavailable.
 */
export function toBackendError(error: unknown, operation: string, context: FailureContext = {}): BackendError {
  if (error instanceof BackendError) return error;
  const at = context.where === undefined ? '' : ` at ${context.where}`;
  const code = sqlState(error);
  if (code !== undefined) {
    if (code === '57014') return new BackendError('timeout', `PostgreSQL cancelled ${operation} (statement timeout)`, { cause: error });
    if (code === '55P03') return new BackendError('timeout', `PostgreSQL gave up ${operation} waiting for a lock (not applied)`, { cause: error });
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300') {
      return new BackendError('unavailable', `PostgreSQL${at} is unavailable during ${operation} (SQLSTATE ${code})`, { cause: error });
    }
    // No unique index for ON CONFLICT to use: a put on ocaml-session's DDL.
    if (code === '42P10') {
      return new BackendError('schema_outdated', `${operation} needs a unique index on session_key in ${context.table ?? 'the table'}, as ensureSchema() creates with a new table`, { cause: error });
    }
    if (code === '42P01' && context.table !== undefined) {
      return new BackendError(
        'schema_missing',
        `PostgreSQL table ${context.table} does not exist (${operation}): create it with backend.ensureSchema() or \`sessionkit migrate --table ${context.table}\``,
        { cause: error },
      );
    }
    return new BackendError('query_failed', `PostgreSQL failed ${operation} (SQLSTATE ${code}: ${serverMessage(error)})`, { cause: error });
  }
  return new BackendError('unavailable', `PostgreSQL${at} is unreachable during ${operation}`, { cause: error });
}

/** The server's own words for an error (its first line), e.g. `database "app" does not exist`. */
function serverMessage(error: unknown): string {
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && message.trim() !== '' ? message.split('\n', 1)[0]!.trim() : 'no message';
}

/** Rejects with a `timeout` {@link BackendError} when `work` has not settled after `timeoutMs`. */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  // One promise and one timer per call: this sits on every statement's path.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BackendError('timeout', `PostgreSQL did not answer ${operation} within ${timeoutMs} ms`)), timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

import { BackendError } from '../../core/errors.js';

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Maps a driver's error to a {@link BackendError}. SQLSTATE classes decide
 * (08 connection, 57P0x shutdown → unavailable; 57014 statement timeout →
 * timeout); an error without a SQLSTATE comes from the socket: unavailable.
 */
export function toBackendError(error: unknown, operation: string): BackendError {
  if (error instanceof BackendError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SQLSTATE.test(code)) {
    if (code === '57014') return new BackendError('timeout', `PostgreSQL cancelled ${operation} (statement timeout)`, { cause: error });
    if (code.startsWith('08') || code.startsWith('57P')) {
      return new BackendError('unavailable', `PostgreSQL is unavailable during ${operation}`, { cause: error });
    }
    return new BackendError('query_failed', `PostgreSQL failed ${operation} (SQLSTATE ${code})`, { cause: error });
  }
  return new BackendError('unavailable', `PostgreSQL is unreachable during ${operation}`, { cause: error });
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

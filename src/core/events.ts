import { isBackendError } from './errors.js';

/**
 * What backends and the HTTP layer report through their `onEvent` option.
 * Keys never appear in events, only their digests (`digestKey`), so events
 * can go to logs and metrics without leaking a usable session id.
 */
export type SessionEvent =
  /** A session was created (`generate`). */
  | { type: 'created'; store: string; keyDigest: string; owner?: string }
  /** The HTTP layer moved a session to a new key (login). */
  | { type: 'regenerated'; store: string; fromDigest: string; toDigest: string }
  /** A session was removed on purpose (`destroy()`, logout, revoke). */
  | { type: 'destroyed'; store: string; keyDigest: string }
  /** A read found the session past its expiry (where the store can tell expired from missing). */
  | { type: 'expired-on-read'; store: string; keyDigest: string }
  /** Sessions were removed in bulk: expired rows pruned, or an owner's sessions revoked. */
  | { type: 'pruned'; store: string; deletedCount: number; durationMs: number }
  /** An atomic update met a concurrent write and retried. */
  | { type: 'conflict-retried'; store: string; keyDigest: string; attempt: number }
  /** A failure: of an operation (also rethrown to its caller), or of background work nobody awaits. */
  | { type: 'error'; store: string; during: string; error: unknown };

/** Receives {@link SessionEvent}s; it must not throw (what it throws is ignored). */
export type SessionEventListener = (event: SessionEvent) => void;

/** Calls `listener` without letting its failure reach the caller. */
export function emitEvent(listener: SessionEventListener | undefined, event: SessionEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // A faulty listener must not break the operation that reported the event.
  }
}

/**
 * `work`, whose failure is rethrown to the caller and, when `reportable`
 * (by default: a `BackendError`), also sent to `listener` as an `error` event
 * of `store` during `during`. The one way backends and the HTTP layer report
 * a failed operation; free when nobody listens (no extra promise).
 */
export function reportFailure<T>(
  listener: SessionEventListener | undefined,
  store: string,
  during: string,
  work: Promise<T>,
  reportable: (error: unknown) => boolean = isBackendError,
): Promise<T> {
  if (listener === undefined) return work;
  return work.catch((error: unknown) => {
    if (reportable(error)) emitEvent(listener, { type: 'error', store, during, error });
    throw error;
  });
}

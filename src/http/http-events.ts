import { isBackendError } from '../core/errors.js';
import { emitEvent, reportFailure, type SessionEvent, type SessionEventListener } from '../core/events.js';
import { digestKey } from '../core/keys.js';
import { SessionConflictError, SessionDataTooLargeError } from './session-errors.js';

/** The `store` of every event the HTTP layer emits; a backend's events name the backend instead. */
export const HTTP_EVENT_STORE = 'http';

/**
 * Failures worth an `error` event: the store's (`BackendError`) and the
 * session layer's own (`SessionConflictError`, `SessionDataTooLargeError`).
 * What an application's `update(fn)` throws is its own business.
 */
export function isSessionFailure(error: unknown): boolean {
  return isBackendError(error) || error instanceof SessionConflictError || error instanceof SessionDataTooLargeError;
}

/** The HTTP layer's side of `onEvent`: digests computed only when someone listens, a faulty listener ignored. */
export class HttpEvents {
  readonly #listener: SessionEventListener | undefined;

  constructor(listener: SessionEventListener | undefined) {
    this.#listener = listener;
  }

  /** Whether anyone listens: events (and their digests) are built only then. */
  get enabled(): boolean {
    return this.#listener !== undefined;
  }

  emit(event: SessionEvent): void {
    emitEvent(this.#listener, event);
  }

  /** `digestKey(key)`: the only form in which a key leaves in an event. */
  digest(key: string): string {
    return digestKey(key);
  }

  /** Reports a change made once the commit started as a `write-dropped` event (with the digest of `key`, when there is one). */
  writeDropped(operation: string, key: string | undefined): void {
    if (this.#listener === undefined) return;
    this.emit({ type: 'write-dropped', store: HTTP_EVENT_STORE, operation, ...(key === undefined ? {} : { keyDigest: digestKey(key) }) });
  }

  /** `work`, whose failure (rethrown) is also reported as an `error` event when it is a {@link isSessionFailure}. */
  reported<T>(during: string, work: Promise<T>): Promise<T> {
    return reportFailure(this.#listener, HTTP_EVENT_STORE, during, work, isSessionFailure);
  }
}

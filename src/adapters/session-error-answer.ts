import { isBackendError, isOwnerSessionLimitError, type BackendErrorCode } from '../core/errors.js';

/** What a 503 tells the client and the load balancer: try again after this many seconds. */
export const RETRY_AFTER_SECONDS = 1;

/** The codes that say the store, not the application, failed: the request may succeed once it is back. */
const OUTAGE_CODES: ReadonlySet<BackendErrorCode> = new Set(['unavailable', 'timeout', 'indeterminate']);

/**
 * True for a `BackendError` whose code is `unavailable`, `timeout` or
 * `indeterminate`: the session store is down or too slow, which an adapter
 * answers 503 with `Retry-After` rather than 500 (kept for bugs).
 */
export function isStoreOutage(error: unknown): boolean {
  return isBackendError(error) && OUTAGE_CODES.has(error.code);
}

/** The status, headers and body an adapter answers a session error with. */
export interface SessionErrorAnswer {
  readonly status: number;
  /** As `[name, value]` pairs. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

const TEXT: readonly [string, string] = ['Content-Type', 'text/plain; charset=utf-8'];

/** A store outage: 503, with `Retry-After`. */
export const OUTAGE_ANSWER: SessionErrorAnswer = { status: 503, headers: [['Retry-After', String(RETRY_AFTER_SECONDS)], TEXT], body: 'Service Unavailable' };

/**
 * A login refused by the owner's session limit (`OwnerSessionLimitError`):
 * 409, the request conflicts with the sessions the user already has (ending
 * one of them resolves it), not 403, which would say the credentials or
 * rights were wrong. No `Set-Cookie`: the adapter sends none with an error.
 */
export const OWNER_LIMIT_ANSWER: SessionErrorAnswer = { status: 409, headers: [TEXT], body: 'Too many sessions: end one of your other sessions, then log in again' };

/** The answer of an error the adapters answer themselves (a store outage, a refused login); undefined for any other (a bug: the framework's 500). */
export function sessionErrorAnswer(error: unknown): SessionErrorAnswer | undefined {
  if (isStoreOutage(error)) return OUTAGE_ANSWER;
  if (isOwnerSessionLimitError(error)) return OWNER_LIMIT_ANSWER;
  return undefined;
}

/**
 * `error` itself, given the fields the node frameworks' error paths read when
 * {@link sessionErrorAnswer} has an answer for it: `status`/`statusCode`,
 * `expose`, `headers` (http-errors' shape, read by Express's final handler,
 * Koa and Fastify). The error stays the same object, so `isBackendError(err)`
 * or `isOwnerSessionLimitError(err)` in an application's error handler still
 * holds. Any other error is returned untouched.
 */
export function withSessionErrorStatus<E>(error: E): E {
  const answer = sessionErrorAnswer(error);
  if (answer === undefined) return error;
  const headers = Object.fromEntries(answer.headers.filter(([name]) => name !== 'Content-Type'));
  // Non-enumerable: what logs print of the error stays the error's own.
  Object.defineProperties(error as object, {
    status: { value: answer.status, configurable: true, writable: true },
    statusCode: { value: answer.status, configurable: true, writable: true },
    expose: { value: false, configurable: true, writable: true },
    headers: { value: headers, configurable: true, writable: true },
  });
  return error;
}

/** The answer for `error` as a fetch `Response`; undefined when it has none. */
export function sessionErrorResponse(error: unknown): Response | undefined {
  const answer = sessionErrorAnswer(error);
  return answer === undefined ? undefined : new Response(answer.body, { status: answer.status, headers: answer.headers as Array<[string, string]> });
}

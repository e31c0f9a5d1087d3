import { isBackendError, type BackendErrorCode } from '../core/errors.js';

/** What a 503 tells the client and the load balancer: try again after this many seconds. */
export const RETRY_AFTER_SECONDS = 1;

/** The codes that say the store, not the application, failed: the request may succeed once it is back. */
const OUTAGE_CODES: ReadonlySet<BackendErrorCode> = new Set(['unavailable', 'timeout', 'indeterminate']);

/** The body of the 503 an adapter answers itself. */
export const OUTAGE_BODY = 'Service Unavailable';

/**
 * True for a `BackendError` whose code is `unavailable`, `timeout` or
 * `indeterminate`: the session store is down or too slow, which an adapter
 * answers 503 with `Retry-After` rather than 500 (kept for bugs).
 */
export function isStoreOutage(error: unknown): boolean {
  return isBackendError(error) && OUTAGE_CODES.has(error.code);
}

/** The 503's headers, as `[name, value]` pairs. */
export const OUTAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Retry-After', String(RETRY_AFTER_SECONDS)],
  ['Content-Type', 'text/plain; charset=utf-8'],
];

/**
 * `error` itself, given the fields the node frameworks' error paths read when
 * it is a store outage: `status`/`statusCode` 503, `expose`, `headers` with
 * `Retry-After` (http-errors' shape, read by Express's final handler, Koa and
 * Fastify). The error stays the same object, so `isBackendError(err)` in an
 * application's error handler still holds. Any other error is returned
 * untouched.
 */
export function withOutageStatus<E>(error: E): E {
  if (!isStoreOutage(error)) return error;
  // Non-enumerable: what logs print of the error stays the BackendError's own.
  Object.defineProperties(error as object, {
    status: { value: 503, configurable: true, writable: true },
    statusCode: { value: 503, configurable: true, writable: true },
    expose: { value: false, configurable: true, writable: true },
    headers: { value: { 'Retry-After': String(RETRY_AFTER_SECONDS) }, configurable: true, writable: true },
  });
  return error;
}

/** The 503 as a fetch `Response`. */
export function outageResponse(): Response {
  return new Response(OUTAGE_BODY, { status: 503, headers: OUTAGE_HEADERS as Array<[string, string]> });
}

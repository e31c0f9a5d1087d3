/** What kind of store failure a {@link BackendError} reports. */
export type BackendErrorCode =
  /** The store could not be reached (connection refused, reset, closed, too many connections, shutting down); a write that reports it was not applied. */
  | 'unavailable'
  /** No answer within the backend's `timeoutMs`; a write that reports it was not applied and never will be. */
  | 'timeout'
  /**
   * A write whose fate the backend could not learn within the caller's deadline (the connection died or the
   * deadline passed after the write was sent, and reading its write token back failed too): it may have been
   * applied, at most once, possibly after the caller's later writes of the same key (a frozen server resumes it): a
   * late compare-and-set changes nothing, a late `set` or `put` replaces what they stored. Rare by design; reads never
   * report it.
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
    if (STORE_OUTAGE_CODES.has(code)) Object.defineProperties(this, OUTAGE_SHAPE);
  }
}

/** The codes that say the store, not the application, failed: the request may succeed once the store is back. */
const STORE_OUTAGE_CODES: ReadonlySet<BackendErrorCode> = new Set(['unavailable', 'timeout', 'indeterminate']);

/** What a 503 for a store outage tells the client and the load balancer: try again after this many seconds. */
export const RETRY_AFTER_SECONDS = 1;

/** The body of a store outage's 503. */
export const OUTAGE_BODY = 'Service Unavailable';

/** A store outage's 503 headers, as `[name, value]` pairs. */
export const OUTAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Retry-After', String(RETRY_AFTER_SECONDS)],
  ['Content-Type', 'text/plain; charset=utf-8'],
];

/**
 * True for a `BackendError` whose code is `unavailable`, `timeout` or
 * `indeterminate`: the session store is down or too slow, which HTTP answers
 * 503 with `Retry-After` rather than 500 (kept for bugs).
 */
export function isStoreOutage(error: unknown): boolean {
  return isBackendError(error) && STORE_OUTAGE_CODES.has(error.code);
}

/** A store outage's 503 as a fetch `Response`. */
export function outageResponse(): Response {
  return new Response(OUTAGE_BODY, { status: 503, headers: OUTAGE_HEADERS as Array<[string, string]> });
}

/**
 * A store outage wherever it surfaces (an adapter's load or save, or a handler's own `update()` that the
 * application did not catch) is a 503 in every framework's default error path, because the error itself carries
 * the shapes those paths read: http-errors' `status`/`statusCode`/`expose`/`headers` (Express's final handler,
 * Koa, Fastify) and `getResponse()` (Hono). Non-enumerable, so logs print the `BackendError` as it is.
 */
const OUTAGE_SHAPE = httpErrorShape(503, outageResponse, { 'Retry-After': String(RETRY_AFTER_SECONDS) });

/** The shape `OUTAGE_SHAPE` describes, for an answer of `status` that `getResponse` makes, with `headers` if given. */
function httpErrorShape(status: number, getResponse: () => Response, headers?: Record<string, string>): PropertyDescriptorMap {
  const property = (value: unknown): PropertyDescriptor => ({ value, configurable: true, writable: true });
  const shape: PropertyDescriptorMap = { status: property(status), statusCode: property(status), expose: property(false) };
  if (headers !== undefined) shape.headers = property(Object.freeze(headers));
  shape.getResponse = property(getResponse);
  return shape;
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
    Object.defineProperties(this, OWNER_LIMIT_SHAPE);
  }
}

/** The body of a refused login's 409. */
export const OWNER_LIMIT_BODY = 'Too many sessions: end one of your other sessions, then log in again';

/**
 * A refused login's 409 as a fetch `Response`: the request conflicts with the
 * sessions the user already has (ending one resolves it), where 403 would say
 * the credentials or rights were wrong. No `Set-Cookie`.
 */
export function ownerLimitResponse(): Response {
  return new Response(OWNER_LIMIT_BODY, { status: 409, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** As the outage's shape (see `OUTAGE_SHAPE`): every framework's default error path answers a refused login 409. */
const OWNER_LIMIT_SHAPE = httpErrorShape(409, ownerLimitResponse);

/** The answer an adapter gives itself for a session error (a store outage's 503, a refused login's 409); undefined for any other. */
export function sessionErrorResponse(error: unknown): Response | undefined {
  if (isStoreOutage(error)) return outageResponse();
  if (isOwnerSessionLimitError(error)) return ownerLimitResponse();
  return undefined;
}

/** True for an {@link OwnerSessionLimitError}, also one made by another copy of this package. */
export function isOwnerSessionLimitError(error: unknown): error is OwnerSessionLimitError {
  return error instanceof OwnerSessionLimitError || (error instanceof Error && error.name === 'OwnerSessionLimitError' && 'maxSessionsPerOwner' in error);
}

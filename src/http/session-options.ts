import { requireOwners, type Backend, type OwnerIndexBackend } from '../core/contract.js';
import type { SessionEventListener } from '../core/events.js';
import { assertWholeNumberOption, DEFAULT_MAX_VALUE_BYTES } from '../core/validate.js';
import { DEFAULT_COOKIE_NAME, resolveCookieOptions, type CookieOptions, type ResolvedCookieOptions } from './cookie-options.js';
import { resolveSessionHeader, type ResolvedSessionHeader, type TransportOptions } from './session-header.js';

/** Default of {@link SessionOptions.touchAfterSeconds}: one minute. */
export const DEFAULT_TOUCH_AFTER_SECONDS = 60;
/** Default of {@link SessionOptions.maxUpdateAttempts}. */
export const DEFAULT_MAX_UPDATE_ATTEMPTS = 100;

/**
 * Options of typed sessions, the same for every adapter (node:http, Express,
 * Fastify, Hono). Every field is optional; a bad value throws a `TypeError`
 * when the middleware is created.
 */
export interface SessionOptions {
  /** Name of the session cookie; default `sid`. Prefer `__Host-sid` with `secure` in production. */
  cookieName?: string;
  /** Cookie attributes; default `Path=/; HttpOnly; SameSite=Lax`, persistent. */
  cookie?: CookieOptions;
  /**
   * Seconds of inactivity after which a session ends (rolling expiry: each
   * write, and each request once {@link touchAfterSeconds} have passed, restarts
   * it). Default: the backend's `defaultPeriod()` at the time of each write.
   */
  idleTimeoutSeconds?: number;
  /**
   * Write throttling: a request that changes nothing renews the expiry (a store
   * write plus a fresh cookie) only when that would extend it by at least this
   * many seconds. `0` renews on every request. Default 60; must be below the
   * idle timeout.
   */
  touchAfterSeconds?: number;
  /** Seconds after creation when a session ends however active it is; default none. `regenerate()` keeps the creation time. */
  absoluteLifetimeSeconds?: number;
  /**
   * Compare-and-set attempts of one `update(fn)` or one commit before it
   * rejects with a `SessionConflictError`; default 100. Attempts after a
   * conflict wait a short random delay.
   */
  maxUpdateAttempts?: number;
  /** Largest stored session (JSON envelope), in bytes of UTF-8; default and upper bound: the backend's `maxValueBytes` (1 MiB if it has none). */
  maxDataBytes?: number;
  /** Wall clock in milliseconds since the epoch, for creation times; default `Date.now`. Tests pass a clock they control. */
  nowMs?: () => number;
  /**
   * Turns on sessions by owner (a user id): `regenerate({ owner })`,
   * `logoutEverywhere()` and `listOwnSessions()`. Needs a backend with
   * `listByOwner`/`clearByOwner` (memory, Redis, and PostgreSQL once `ensureSchema()`
   * or `sessionkit migrate` added the owner column): without one, creating the
   * middleware throws a `TypeError`. Default false: those methods throw.
   */
  owners?: boolean;
  /**
   * Receives the HTTP layer's events, with `store: 'http'`: `created` (a new
   * session's first save), `regenerated`, `destroyed`, `expired-on-read` (past
   * `absoluteLifetimeSeconds`), `pruned` (`logoutEverywhere`),
   * `conflict-retried` (each compare-and-set retry) and `error` (a failure of
   * load, commit, `update` or an owner operation, which still goes to the
   * framework's error path). Keys appear only as digests. It must not throw
   * (what it throws is ignored). The backend's own `onEvent` reports the
   * store's view (`store` names the backend); one listener can take both.
   */
  onEvent?: SessionEventListener;
  /**
   * Where the session key travels. Default: the cookie only. `{ header: true }`
   * adds `Authorization: Bearer <key>` for API and mobile clients (a new key
   * comes back in `Set-Auth-Token`); `{ header: { requestHeader: 'X-Session-Token' } }`
   * reads and answers that header; `{ cookie: false, header: … }` turns the
   * cookie off. With both on, a request that carries the session header is
   * read by the header alone (its cookie is ignored, and the cross-origin
   * check does not apply); any other request by its cookie. A response returns
   * a new key on the transport its request used; a request with neither
   * gets the cookie (send the header empty, or `Authorization: Bearer`
   * alone, to get the key in the header). docs/http.md, "API and mobile
   * clients".
   */
  transport?: TransportOptions;
}

/** {@link SessionOptions} checked and with defaults applied. */
export interface ResolvedSessionOptions {
  readonly backend: Backend;
  readonly cookieName: string;
  readonly cookie: ResolvedCookieOptions;
  readonly idleTimeoutSeconds: number | undefined;
  readonly touchAfterSeconds: number;
  readonly absoluteLifetimeSeconds: number | undefined;
  readonly maxUpdateAttempts: number;
  readonly maxDataBytes: number;
  readonly nowMs: () => number;
  /** The backend, when `owners: true` (checked to keep sessions by owner); undefined otherwise. */
  readonly ownerBackend: OwnerIndexBackend | undefined;
  readonly onEvent: SessionEventListener | undefined;
  /** False when `transport.cookie` is false: no cookie is read nor set. */
  readonly cookieTransport: boolean;
  /** The header transport, or undefined when it is off (the default). */
  readonly sessionHeader: ResolvedSessionHeader | undefined;
}

/**
 * Checks `options` against `backend` once, at setup: with `owners: true` a
 * backend that keeps no sessions by owner, or any invalid option, is a
 * `TypeError` here, not at the first request. `options` is never mutated.
 */
export function resolveSessionOptions(backend: Backend, options: SessionOptions = {}): ResolvedSessionOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('session options must be an object');
  const backendMax = (backend as { maxValueBytes?: unknown }).maxValueBytes;
  const storeMaxBytes = typeof backendMax === 'number' && Number.isSafeInteger(backendMax) && backendMax > 0 ? backendMax : DEFAULT_MAX_VALUE_BYTES;
  const {
    cookieName = DEFAULT_COOKIE_NAME,
    cookie = {},
    idleTimeoutSeconds,
    touchAfterSeconds = DEFAULT_TOUCH_AFTER_SECONDS,
    absoluteLifetimeSeconds,
    maxUpdateAttempts = DEFAULT_MAX_UPDATE_ATTEMPTS,
    maxDataBytes = storeMaxBytes,
    nowMs = Date.now,
    owners = false,
    onEvent,
    transport = {},
  } = options;

  if (idleTimeoutSeconds !== undefined) assertWholeNumberOption(idleTimeoutSeconds, 'idleTimeoutSeconds', 1);
  assertWholeNumberOption(touchAfterSeconds, 'touchAfterSeconds', 0);
  const idle = idleTimeoutSeconds ?? backend.defaultPeriod();
  if (touchAfterSeconds >= idle) {
    throw new TypeError(`touchAfterSeconds (${touchAfterSeconds}) must be below the idle timeout (${idle} s), or active sessions would expire`);
  }
  if (absoluteLifetimeSeconds !== undefined) assertWholeNumberOption(absoluteLifetimeSeconds, 'absoluteLifetimeSeconds', 1);
  assertWholeNumberOption(maxUpdateAttempts, 'maxUpdateAttempts', 1);
  assertWholeNumberOption(maxDataBytes, 'maxDataBytes', 1);
  if (maxDataBytes > storeMaxBytes) throw new TypeError(`maxDataBytes (${maxDataBytes}) is over the backend's maxValueBytes (${storeMaxBytes})`);
  if (typeof nowMs !== 'function') throw new TypeError('nowMs must be a function');
  if (typeof owners !== 'boolean') throw new TypeError('owners must be a boolean');
  if (onEvent !== undefined && typeof onEvent !== 'function') throw new TypeError('onEvent must be a function');
  const ownerBackend = owners ? requireOwners(backend, 'sessions by owner (owners: true)') : undefined;
  if (typeof transport !== 'object' || transport === null) throw new TypeError('transport must be an object: { cookie?, header? }');
  const { cookie: cookieTransport = true, header, ...unknown } = transport;
  const extra = Object.keys(unknown)[0];
  if (extra !== undefined) throw new TypeError(`unknown transport option ${JSON.stringify(extra)}; known: cookie, header`);
  if (typeof cookieTransport !== 'boolean') throw new TypeError('transport.cookie must be a boolean');
  const sessionHeader = resolveSessionHeader(header, cookieTransport);
  if (!cookieTransport && sessionHeader === undefined) throw new TypeError('transport: with cookie: false, give header: the session key needs a way to travel');
  if (!cookieTransport && (options.cookieName !== undefined || options.cookie !== undefined)) throw new TypeError('cookieName and cookie have no meaning with transport.cookie false; remove them');

  return Object.freeze({
    backend,
    cookieName,
    cookie: resolveCookieOptions(cookieName, cookie),
    idleTimeoutSeconds,
    touchAfterSeconds,
    absoluteLifetimeSeconds,
    maxUpdateAttempts,
    maxDataBytes,
    nowMs,
    ownerBackend,
    onEvent,
    cookieTransport,
    sessionHeader,
  });
}

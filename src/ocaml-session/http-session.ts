import type { Backend, SessionError } from '../core/contract.js';
import { readSessionCookie, type CookieHeader } from '../http/read-cookie.js';

/**
 * A request-scoped session on string values, as ocaml-session's `Session_cohttp.t`:
 * the key, the value, the period in seconds the cookie should live, and
 * whether the response must send the cookie (`modified`). The functions of
 * this module update it in place after the store has answered.
 */
export interface HttpSession {
  /** The session key: the cookie's value. */
  readonly key: string;
  /** The session's value as stored; `''` once cleared. */
  value: string;
  /** Seconds the session (and its cookie) has left; `0` once cleared. */
  expiryPeriod: number;
  /** True when the response must carry a `Set-Cookie` for this session. */
  modified: boolean;
}

/** The answer of {@link ofKey}: the session, or why there is none. */
export type SessionResult = { ok: true; session: HttpSession } | { ok: false; error: SessionError };

/**
 * The answer of {@link ofHeader}: `session` is undefined when the request has
 * no cookie of that name; a cookie that names no live session is `NotFound`
 * (or `NotSet` for a live session without a value).
 */
export type HeaderSessionResult = { ok: true; session: HttpSession | undefined } | { ok: false; error: SessionError };

/** Options of {@link generate}, {@link ofHeaderOrCreate} and {@link set}. */
export interface ExpiryOptions {
  /** Seconds until the session expires, from now; default `backend.defaultPeriod()`. */
  expiry?: number;
}

/** Options of {@link set}. */
export interface HttpSetOptions extends ExpiryOptions {
  /** The new value; omitted, the value is kept and only the expiry renewed. */
  value?: string;
}

const NOT_FOUND_RESULT: HeaderSessionResult = Object.freeze({ ok: false, error: 'NotFound' });

/** The session stored under `key` (unmodified), or `NotFound` / `NotSet`. Rejects only on a store failure. */
export async function ofKey(backend: Backend, key: string): Promise<SessionResult> {
  const result = await backend.get(key);
  if (!result.ok) return result;
  return { ok: true, session: { key, value: result.value, expiryPeriod: result.period, modified: false } };
}

/**
 * The session named by the cookie `cookieName` in a `Cookie` header. No such
 * cookie: `{ ok: true, session: undefined }`. A hostile header (malformed,
 * duplicated name with different values, oversized, non-ASCII) never throws and
 * never reaches the store: it is `NotFound`.
 */
export async function ofHeader(backend: Backend, cookieName: string, cookieHeader: CookieHeader): Promise<HeaderSessionResult> {
  const cookie = readSessionCookie(cookieHeader, cookieName);
  if (cookie.kind === 'absent') return { ok: true, session: undefined };
  if (cookie.kind === 'invalid') return NOT_FOUND_RESULT;
  return ofKey(backend, cookie.key);
}

/** The session of the `Cookie` header, or a new one holding `defaultValue` when it has none (or none with a value). */
export async function ofHeaderOrCreate(
  backend: Backend,
  cookieName: string,
  defaultValue: string,
  cookieHeader: CookieHeader,
  options: ExpiryOptions = {},
): Promise<HttpSession> {
  const found = await ofHeader(backend, cookieName, cookieHeader);
  if (found.ok && found.session !== undefined) return found.session;
  return generate(backend, stringValue(defaultValue), options);
}

/** A new session holding `value`, `modified` so that its cookie is sent. */
export async function generate(backend: Backend, sessionValue: string, options: ExpiryOptions = {}): Promise<HttpSession> {
  const { expiry = backend.defaultPeriod() } = options;
  const key = await backend.generate({ expiry, value: stringValue(sessionValue) });
  return { key, value: sessionValue, expiryPeriod: expiry, modified: true };
}

/**
 * Stores `value` (or keeps the current one) and restarts the expiry, then
 * marks the session `modified`. Like the backend's `set`, it never revives a
 * session that expired meanwhile.
 */
export async function set(backend: Backend, session: HttpSession, options: HttpSetOptions = {}): Promise<void> {
  const { value: newValue = session.value, expiry = backend.defaultPeriod() } = options;
  await backend.set(session.key, stringValue(newValue), { expiry });
  session.value = newValue;
  session.expiryPeriod = expiry;
  session.modified = true;
}

/** Removes the session from the store; its cookie headers then expire the cookie (`Max-Age=0`). Idempotent. */
export async function clear(backend: Backend, session: HttpSession): Promise<void> {
  await backend.clear(session.key);
  session.value = '';
  session.expiryPeriod = 0;
  session.modified = true;
}

function stringValue(candidate: unknown): string {
  if (typeof candidate !== 'string') throw new TypeError(`session value must be a string, got ${typeof candidate}`);
  return candidate;
}

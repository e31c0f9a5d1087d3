import session from 'express-session';
import { callbackOrPromise, type NodeCallback } from '../../core/callback.js';
import type { Backend } from '../../core/contract.js';
import { supportsEnumeration, type EnumerableBackend } from '../../core/enumeration.js';
import { assertWholeNumberOption, parseJsonObject } from '../../core/validate.js';
import { storeKeyOfSessionId } from './session-id.js';

/** A session as express-session hands it to a store: JSON data with a `cookie`. */
export type StoredSession = session.SessionData;

/** Options of {@link SessionkitStore}. */
export interface SessionkitStoreOptions {
  /**
   * Seconds a session lives when its cookie has no `expires` (express-session's
   * `cookie.maxAge` unset), or a function of the session giving them. Default:
   * the backend's `defaultPeriod()` (one week unless changed).
   */
  ttl?: number | ((session: StoredSession) => number);
  /** `true`: `touch` does nothing, so an unchanged session is never written and expires `ttl` after its last change. Default false. */
  disableTouch?: boolean;
}

type Callback<T> = NodeCallback<T>;

/**
 * express-session's `Store` over any sessionkit backend (memory, PostgreSQL,
 * Redis, Redis Cluster). The session id is the
 * backend's key (an id that is not a well-formed key, from a custom
 * `genid`, is encoded into one: {@link storeKeyOfSessionId}), hashed at
 * rest, so a dump of the store holds no usable cookie. Values are
 * express-session's JSON.
 *
 * Expiry is to the millisecond: the backends keep whole seconds, so a
 * session whose stored `cookie.expires` has passed reads as absent (and is
 * removed) even while the backend still holds it, as express-session's
 * MemoryStore does.
 *
 * - `get`: the session, or `null` (never an error) when it is missing,
 *   expired, or stored as something other than a JSON object.
 * - `set`: creates or replaces, expiring at `cookie.expires` (else after
 *   `ttl`, also when `expires` is not a valid date); an `expires` already
 *   past removes the session.
 * - `touch`: restarts the expiry of a live session and stores its new
 *   cookie, without reviving a missing one or overwriting a parallel change
 *   (compare-and-set).
 * - `destroy`: removes it; idempotent.
 * - `length`: how many sessions `all` gives; `clear`: removes every session
 *   of the backend's table or prefix.
 * - `all`: an object of every live session, as express-session's
 *   MemoryStore gives, keyed by what the store holds for each id: the key
 *   itself when the backend keeps keys as they are (memory, `hashKeys:
 *   false`), else its digest (`digestKey(key)`), since a hashed id cannot be
 *   recovered.
 * - `ids`: the keys, only when the backend keeps keys as they are (an id
 *   that was encoded appears as its key); with hashed keys it calls back
 *   with a `TypeError`, since the store keeps no id a dump could replay.
 *
 * `all` / `length` / `clear` / `ids` need a backend that can enumerate
 * ({@link EnumerableBackend}: memory, PostgreSQL, Redis); on another they
 * call back with a `TypeError` saying so.
 *
 * Every method takes express-session's callback (`cb(err)` on a store
 * failure, a `BackendError`) and also returns a promise.
 */
export class SessionkitStore extends session.Store {
  readonly #backend: Backend;
  readonly #ttl: (session: StoredSession) => number;
  readonly #disableTouch: boolean;

  /** Throws a `TypeError` at once for an invalid option. */
  constructor(backend: Backend, options: SessionkitStoreOptions = {}) {
    super();
    this.#backend = backend;
    if (typeof options !== 'object' || options === null) throw new TypeError('SessionkitStore options must be an object');
    for (const name of Object.keys(options)) {
      if (name !== 'ttl' && name !== 'disableTouch') throw new TypeError(`unknown SessionkitStore option ${JSON.stringify(name)}; known: ttl, disableTouch`);
    }
    const { ttl, disableTouch = false } = options;
    if (typeof disableTouch !== 'boolean') throw new TypeError('disableTouch must be a boolean');
    this.#disableTouch = disableTouch;
    if (typeof ttl === 'function') {
      this.#ttl = (stored) => {
        const seconds = ttl(stored);
        assertWholeNumberOption(seconds, 'ttl(session)', Number.MIN_SAFE_INTEGER);
        return seconds;
      };
    } else if (ttl !== undefined) {
      assertWholeNumberOption(ttl, 'ttl', 1);
      this.#ttl = () => ttl;
    } else {
      this.#ttl = () => backend.defaultPeriod();
    }
  }

  override get = (sid: string, callback?: Callback<StoredSession | null>): Promise<StoredSession | null> =>
    callbackOrPromise(callback, async () => {
      const key = storeKeyOfSessionId(String(sid));
      const result = await this.#backend.get(key);
      const stored = result.ok ? parseSession(result.value) : null;
      if (stored === null || !expiredByCookie(stored)) return stored;
      await this.#backend.clear(key);
      return null;
    });

  override set = (sid: string, stored: StoredSession, callback?: Callback<void>): Promise<void> =>
    callbackOrPromise(callback, async () => {
      const value = JSON.stringify(stored);
      // JSON text that opens with '{' is an object: no parse of what was just written to check it.
      if (typeof value !== 'string' || !value.startsWith('{')) throw new TypeError('express-session stores an object session');
      await this.#backend.put(storeKeyOfSessionId(String(sid)), value, { expiry: this.#expirySeconds(stored) });
    });

  override touch = (sid: string, stored: StoredSession, callback?: Callback<void>): Promise<void> =>
    callbackOrPromise(callback, async () => {
      if (this.#disableTouch) return;
      const key = storeKeyOfSessionId(String(sid));
      const current = await this.#backend.get(key);
      if (!current.ok) return;
      const data = parseSession(current.value);
      if (data === null || expiredByCookie(data)) return;
      const expiry = this.#expirySeconds(stored);
      if (expiry <= 0) {
        await this.#backend.clear(key);
        return;
      }
      const value = JSON.stringify({ ...data, cookie: stored.cookie });
      // Compare-and-set: a change another request saved since our read is kept (it renewed the expiry itself).
      await this.#backend.compareAndSet(key, current.value, value, { expiry });
    });

  override destroy = (sid: string, callback?: Callback<void>): Promise<void> => callbackOrPromise(callback, () => this.#backend.clear(storeKeyOfSessionId(String(sid))));

  override all = (callback?: Callback<Record<string, StoredSession>>): Promise<Record<string, StoredSession>> => callbackOrPromise(callback, () => this.#all('all'));

  // Counted from the values, not countLive(): a session past its cookie.expires is still in the backend for up to a second.
  override length = (callback?: Callback<number>): Promise<number> => callbackOrPromise(callback, async () => Object.keys(await this.#all('length')).length);

  override clear = (callback?: Callback<void>): Promise<void> =>
    callbackOrPromise(callback, async () => {
      await this.#enumerable('clear').clearAll();
    });

  /** The ids of every live session (connect-redis offers this); only on a backend that keeps keys as they are. */
  ids = (callback?: Callback<string[]>): Promise<string[]> =>
    callbackOrPromise(callback, async () => {
      const backend = this.#enumerable('ids');
      if (backend.hashKeys) throw new TypeError('SessionkitStore.ids() needs a backend with hashKeys: false; this one keeps only digests of the ids (all() is keyed by them)');
      const ids: string[] = [];
      for await (const { storedKey, value } of backend.liveSessions()) {
        const parsed = value === null ? null : parseSession(value);
        if (parsed !== null && !expiredByCookie(parsed)) ids.push(storedKey);
      }
      return ids;
    });

  async #all(method: string): Promise<Record<string, StoredSession>> {
    const sessions: Record<string, StoredSession> = Object.create(null) as Record<string, StoredSession>;
    for await (const { storedKey, value } of this.#enumerable(method).liveSessions()) {
      const parsed = value === null ? null : parseSession(value);
      if (parsed !== null && !expiredByCookie(parsed)) sessions[storedKey] = parsed;
    }
    return sessions;
  }

  #enumerable(method: string): EnumerableBackend {
    if (supportsEnumeration(this.#backend)) return this.#backend;
    throw new TypeError(`SessionkitStore.${method}() needs a backend that enumerates its sessions (countLive/liveSessions/clearAll); ${this.#backend.constructor.name} has none`);
  }

  /** express-session's rule: until `cookie.expires`, else (none, or not a date: MemoryStore keeps such a session too) `ttl`. */
  #expirySeconds(stored: StoredSession): number {
    const at = cookieExpiresMs(stored);
    return at === undefined ? this.#ttl(stored) : Math.ceil((at - Date.now()) / 1000);
  }
}

/** The instant of the session's `cookie.expires` in epoch milliseconds, or undefined when it has none or it is not a date. */
function cookieExpiresMs(stored: StoredSession): number | undefined {
  const expires = (stored as { cookie?: { expires?: unknown } }).cookie?.expires;
  const at = expires instanceof Date ? expires.getTime() : typeof expires === 'string' || typeof expires === 'number' ? new Date(expires).getTime() : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** True when the session's own `cookie.expires` has passed: it is gone to express-session, whatever second the backend rounds to. */
function expiredByCookie(stored: StoredSession): boolean {
  const at = cookieExpiresMs(stored);
  return at !== undefined && at <= Date.now();
}

/** The session in `value`, or null for anything that is not a JSON object. */
function parseSession(value: string): StoredSession | null {
  return (parseJsonObject(value) as StoredSession | undefined) ?? null;
}

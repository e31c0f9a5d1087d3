/** Where a typed session stands in this request, as scs's `Status`. */
export type SessionStatus =
  /** Nothing was written in this request (a throttled expiry renewal may still happen). */
  | 'unmodified'
  /** Data was set, unset, updated or the key regenerated: the response will save it. */
  | 'modified'
  /** `destroy()` was called and nothing was written since. */
  | 'destroyed';

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /**
   * Log in as this owner (a user id, 1 to 256 characters): the new key is
   * created with `generate({ owner })`, so it is listed by
   * `listOwnSessions()` and revoked by `logoutEverywhere()`. Needs the
   * `owners: true` option. Omitted: the session keeps the owner it has.
   */
  owner?: string;
  /**
   * Default true: the new key takes the old session's data (with this
   * request's changes) and creation time. False is express-session's
   * `req.session.regenerate`: the new key starts empty, with a new creation
   * time and no owner (unless `owner` is given); the changes this request made
   * before the call are dropped, later ones apply. The old key is removed at
   * the commit either way.
   */
  keepData?: boolean;
}

/** Options of {@link Session.logoutEverywhere}. */
export interface LogoutEverywhereOptions {
  /** Keep this request's session and end only the owner's others ("log out other devices"). Default false: this one ends too. */
  keepCurrent?: boolean;
}

/** One of the owner's sessions as {@link Session.listOwnSessions} reports it: never a usable key. */
export interface OwnSession {
  /** `digestKey(key)`: names the session without being a cookie. */
  readonly keyDigest: string;
  /** Whole seconds until it expires. */
  readonly expiresInSeconds: number;
  readonly createdAt: Date;
  /**
   * When a request last wrote or renewed it: as recent as the touch throttle
   * lets it be (`touchAfterSeconds`), since it is recorded only by writes the
   * session makes anyway. Undefined for a session last written before
   * sessionkit recorded it.
   */
  readonly lastSeenAt: Date | undefined;
  /** The `User-Agent` of the request that last wrote it (first 256 characters), with `recordUserAgent`; else undefined. */
  readonly userAgent: string | undefined;
  /** The client address of the request that last wrote it, with `recordClientAddress`; else undefined. */
  readonly clientAddress: string | undefined;
  /** True for the session of the request that asked. */
  readonly current: boolean;
}

/**
 * A typed session: `Data` is a JSON object, stored as the backend's string
 * value. Fields are read synchronously (the adapter loads the session before
 * the handler runs, at most one store read per request, none without a
 * cookie) and written by tracking which fields this request changed: only
 * those are merged into the stored session when the response is committed,
 * with a compare-and-set loop, so parallel requests writing different fields
 * never erase each other. The commit happens before the response head is
 * written; a request that writes nothing creates no session and sets no cookie.
 *
 * Values go through JSON: `set` stores a copy, a `Date` comes back as a string,
 * `undefined` removes the field. Mutating an object returned by `get` changes
 * nothing until it is `set` again.
 */
export interface Session<Data extends object = Record<string, unknown>> {
  /** The field's value: this request's own change if any, else what was stored when the request began. */
  get<K extends keyof Data & string>(name: K): Data[K] | undefined;
  /**
   * Changes one field, saved with the response. Throws a `TypeError` for a
   * value JSON cannot hold, and a `SessionDataTooLargeError` when the session
   * would exceed `maxDataBytes` (the change is then dropped).
   */
  set<K extends keyof Data & string>(name: K, value: Data[K]): void;
  /** Removes one field, saved with the response. */
  unset(name: keyof Data & string): void;
  /** True when the field has a value (in this request's view). */
  has(name: keyof Data & string): boolean;
  /** A snapshot of all fields as this request sees them (stored data plus its own changes). */
  readonly data: Readonly<Partial<Data>>;
  /**
   * Atomic read-modify-write, done now rather than with the response: `fn`
   * gets the latest stored data (plus this request's pending changes) and
   * returns the new data, which replaces the stored data with a
   * compare-and-set; on a conflict `fn` runs again on fresher data, so it must
   * be pure. Creates the session when there is none. Resolves to the data
   * written; rejects with a `SessionConflictError` after `maxUpdateAttempts`,
   * a `SessionDataTooLargeError`, or a `BackendError`, having written nothing.
   */
  update(fn: (data: Partial<Data>) => Partial<Data>): Promise<Partial<Data>>;
  /**
   * Moves the data to a new key and removes the old one, when the response is
   * committed; call it when privileges change (login) against session
   * fixation. The creation time (absolute lifetime) is kept.
   *
   * `regenerate({ owner })` is the login of sessions by owner: the new key
   * belongs to `owner` (an owner is fixed per key in the store, so setting it
   * always takes a new key), and a request with no session yet gets one even
   * if it writes no field. Throws a `TypeError` for an invalid owner, or
   * without the `owners: true` option.
   *
   * Of parallel requests regenerating the same stored session, one creates
   * the new key; the others write nothing and their commit (or `update()`)
   * rejects with a `SessionRegeneratedError`, so they send no cookie.
   */
  regenerate(options?: RegenerateOptions): void;
  /**
   * Removes the session from the store and expires the cookie, when the
   * response is committed (logout). Fields set afterwards start a new session
   * under a new key.
   */
  destroy(): void;
  /**
   * The user this session belongs to (set by `regenerate({ owner })`, kept in
   * the stored session so reading it costs no store call), or undefined for
   * an anonymous one. Cleared by `destroy()`; a session removed elsewhere
   * during the request (e.g. by `logoutEverywhere`) loses it.
   */
  readonly owner: string | undefined;
  /**
   * Ends every session of this session's owner now (not at the commit), with
   * the backend's `clearByOwner`: other devices are logged out at once.
   * `keepCurrent: true` keeps this request's session; otherwise it is
   * destroyed too (its cookie expires with the response). Resolves to the
   * number of sessions removed; a session without owner removes none (but is
   * still destroyed unless `keepCurrent`). Throws a `TypeError` without the
   * `owners: true` option; rejects with the backend's `BackendError`.
   */
  logoutEverywhere(options?: LogoutEverywhereOptions): Promise<number>;
  /**
   * The live sessions of this session's owner, oldest first, with
   * `current` marking this one and what each recorded of its last request
   * (time, and with the options, user agent and address): digests, never
   * usable keys (for a "your devices" page). Empty without an owner. One
   * listing of the owner's sessions, values included, on the backend. Throws a `TypeError` without the
   * `owners: true` option; rejects with the backend's `BackendError`.
   */
  listOwnSessions(): Promise<OwnSession[]>;
  /**
   * When the user last authenticated: the time of the request that called
   * `regenerate({ owner })` (a login, or a step-up re-login, which refreshes
   * it), kept in the stored session by every other write, including
   * `regenerate()` without owner. Undefined when unknown: an anonymous
   * session, one started over by `regenerate({ keepData: false })` without
   * owner, after `destroy()`, or one stored before sessionkit recorded it.
   */
  readonly authenticatedAt: Date | undefined;
  /**
   * True when the user authenticated at most `maxAgeSeconds` ago (a recent
   * login, for a route that changes a password or an email: ask for the
   * password again otherwise, then `regenerate({ owner })`). False when the
   * time of login is unknown. Throws a `TypeError` unless `maxAgeSeconds` is
   * a whole number from 0.
   */
  isFresh(maxAgeSeconds: number): boolean;
  /**
   * Adds `message` to the flash messages of `type` (connect-flash's
   * `req.flash(type, message)`), saved with the response, for a later request
   * to take. Messages live in the data field `flash` (reserved for them) as
   * `{ [type]: message[] }`. Resolves nothing: returns the number of messages
   * of `type` now, or 0 when dropped because the response was already saved.
   * Throws a `TypeError` for an empty or non-string `type` or a `message` JSON
   * cannot hold (`undefined` included), and a `SessionDataTooLargeError` like
   * `set`; either way the stored messages are unchanged.
   */
  flash(type: string, message: unknown): number;
  /**
   * The flash messages of `type`, oldest first, removed from the session
   * with this response (the read and the removal are one commit); `[]` when
   * there are none, and then nothing is written. Messages stored under `flash`
   * in another shape (not an array) are not messages and read as none. After
   * the response was saved: `[]`, and nothing is removed. Throws a
   * `TypeError` for an empty or non-string `type`.
   */
  takeFlash(type: string): unknown[];
  /** Every flash message, by type, all removed with this response (`{}` when there are none); otherwise as {@link takeFlash}(type). */
  takeFlash(): Record<string, unknown[]>;
  /** Whether this request changed the session; see {@link SessionStatus}. */
  readonly status: SessionStatus;
  /** True when the request brought no live session (none, expired, forged or hostile cookie). */
  readonly isNew: boolean;
  /** Seconds until the stored session expires, as known in this request; undefined while nothing is stored. */
  readonly expiresInSeconds: number | undefined;
  /** When the stored session was created; undefined while nothing is stored. */
  readonly createdAt: Date | undefined;
  /**
   * `digestKey(key)` of the stored session this response points at: names
   * the session in logs without being a usable cookie. Undefined while
   * nothing is stored (a new session before its first save, after `destroy()`
   * or a pending `regenerate()`).
   */
  readonly keyDigest: string | undefined;
  /**
   * Gives this session its own idle period ("remember me"): from this
   * response on, its writes and renewals restart the expiry with
   * `expirySeconds` instead of `idleTimeoutSeconds`, and the cookie's
   * `Max-Age` follows. Kept in the stored session, so later requests keep it;
   * `undefined` goes back to the configured period. Saved with the response
   * (a write even when no field changed). Still cut at
   * `absoluteLifetimeSeconds`. Throws a `TypeError` unless a whole number of
   * seconds from 1.
   */
  setExpirySeconds(expirySeconds: number | undefined): void;
  /** This session's own idle period set by {@link setExpirySeconds}, or undefined for the configured one. */
  readonly ownExpirySeconds: number | undefined;
  /**
   * Drops this request's unsaved field changes and reads the stored session
   * again (express-session's `reload`). A session gone from the store reads
   * as empty. Rejects with the backend's `BackendError`, changing nothing.
   */
  reload(): Promise<void>;
}

/**
 * The backend contract (docs/architecture.md, "The contract and its capabilities"), ported from ocaml-session's `Session.S`.
 * Keys and values are strings; every period is a whole number of seconds.
 */
import { hasShape } from './validate.js';

/** Why `get` found no value: the session does not exist (or expired), or exists with no value. */
export type SessionError = 'NotFound' | 'NotSet';

/**
 * The answer of {@link Backend.get}. Absence is a value, not an exception:
 * `NotFound` for an expired, cleared, never-created or malformed key, `NotSet`
 * for a live session that has no value yet.
 */
export type GetResult =
  | { ok: true; value: string; period: number }
  | { ok: false; error: SessionError };

/** Options of {@link Backend.generate}. */
export interface GenerateOptions {
  /** Seconds until the new session expires; defaults to `defaultPeriod()`. `<= 0` makes a key whose session is already expired. */
  expiry?: number;
  /** Initial value; omitted means "not set" (`get` answers `NotSet`). */
  value?: string;
  /**
   * The user this session belongs to, for `listByOwner` / `clearByOwner` (1 to
   * 256 characters). Only on backends that implement {@link OwnerIndexBackend};
   * elsewhere it is a `TypeError`.
   */
  owner?: string;
}

/** Options of {@link Backend.set}. */
export interface SetOptions {
  /** Seconds until the session expires, counted from now; defaults to `defaultPeriod()`. */
  expiry?: number;
}

/** The answer of {@link Backend.compareAndSet}. */
export type CompareAndSetResult = 'ok' | 'conflict' | 'NotFound';

/**
 * A session store. Every backend (memory, PostgreSQL, Redis, or one written
 * on `sessionkit/backend-kit`) keeps these promises, and the conformance suite
 * (`runBackendConformance` from `sessionkit/testkit`,
 * `src/testkit/backend-conformance.ts`) checks each one.
 */
export interface Backend {
  /** Seconds after which a new or renewed session expires when no expiry is given: 604800 (one week) until changed. */
  defaultPeriod(): number;
  /** Changes the default period for later operations only; existing sessions keep their expiry. Throws `TypeError` unless a whole number of seconds. */
  setDefaultPeriod(periodSeconds: number): void;
  /** Creates a session and resolves to its new key: 30 CSPRNG bytes as 40 base64url characters. */
  generate(options?: GenerateOptions): Promise<string>;
  /** The value and whole seconds left (`period >= 0`) of a live session; `NotFound` / `NotSet` otherwise, never an exception for a bad key. */
  get(key: string): Promise<GetResult>;
  /** Replaces the value of a live session and restarts its expiry. A missing or expired key is left alone: `set` never creates nor revives a session. */
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /**
   * Atomically replaces the value of a live session whose current value is
   * `expected` (`null`: not set) and restarts its expiry: what typed sessions
   * (`update(fn)`, field merging, one login per session) are built on, so
   * parallel read-modify-writes never lose an update. `conflict` when the
   * value differs, `NotFound` when the session is missing or expired (it is
   * never created). Validates like `set`.
   */
  compareAndSet(key: string, expected: string | null, value: string, options?: SetOptions): Promise<CompareAndSetResult>;
  /**
   * Stores `value` under `key`, creating the session or replacing its value,
   * and (re)starts its expiry: for keys made elsewhere (express-session's
   * `sid`, keys carried over by `sessionkit import`). `set` keeps never
   * creating; this is the one write that may. The key must be well-formed
   * (1 to 40 characters of `[A-Za-z0-9+/=_-]`), or it is a `TypeError`; it is
   * hashed at rest like every key. `expiry <= 0` removes the session. The
   * session keeps no owner. A store whose schema predates it (PostgreSQL on
   * ocaml-session's own table, which has no unique index on the key) rejects
   * with a `BackendError` `schema_outdated` and stores nothing.
   */
  put(key: string, value: string, options?: SetOptions): Promise<void>;
  /** Removes the session. Idempotent: clearing a missing key is not an error. */
  clear(key: string): Promise<void>;
  /** Releases what the backend opened itself (pools, timers); a client the caller passed in stays open. */
  close(): Promise<void>;
}

/** One session of an owner, as {@link OwnerIndexBackend.listByOwner} reports it: never a usable key. */
export interface OwnedSession {
  /** `digestKey(key)`: identifies the session (e.g. to revoke it) without being a cookie. */
  keyDigest: string;
  /** Whole seconds until it expires. */
  expiresInSeconds: number;
  createdAt: Date;
  /**
   * Its stored value (`null`: not set), read with the listing itself (no
   * round trip per session), so a devices page shows what the value records
   * (typed sessions keep the time last seen and the client there).
   */
  value: string | null;
}

/** Default of `maxSessionsPerOwner`: devices per user, far above a real user's and far below what makes "log out everywhere" slow. */
export const DEFAULT_MAX_SESSIONS_PER_OWNER = 100;

/**
 * What a login (`generate({ owner })`) does when its owner already has
 * `maxSessionsPerOwner` live sessions: `'end-oldest'` stores it and ends the
 * owner's oldest sessions beyond the limit; `'refuse'` stores nothing and
 * rejects with an `OwnerSessionLimitError`, leaving every session as it was.
 * "Oldest" is by creation time as the store's clock has it, to the
 * millisecond: sessions created in the same millisecond (on Redis, in one
 * script call) are ended in no defined order among themselves.
 */
export type OwnerLimitPolicy = 'end-oldest' | 'refuse';

/** Options of backends that keep sessions by owner. */
export interface OwnerIndexOptions {
  /**
   * Most live sessions one owner may have, a whole number >= 1, or `false`
   * for no limit. Default {@link DEFAULT_MAX_SESSIONS_PER_OWNER} (100). The
   * limit holds however many logins of the owner run at once: each is
   * checked and applied atomically with the login.
   */
  maxSessionsPerOwner?: number | false;
  /** What a login beyond the limit does (see {@link OwnerLimitPolicy}); default `'end-oldest'`. */
  onMaxSessionsPerOwner?: OwnerLimitPolicy;
}

/** Options of {@link OwnerIndexBackend.clearByOwner}. */
export interface ClearByOwnerOptions {
  /** A key (e.g. the current request's) whose session is kept. */
  except?: string;
}

/**
 * Capability: sessions by owner (a user id), for "log out everywhere" and a
 * devices page. An owner is given at `generate({ owner })` and never changes;
 * the cost of these operations is proportional to that owner's sessions,
 * never a scan.
 *
 * Optional because it needs an index the store keeps beside the sessions and
 * updates on every owned write (a column and an index in PostgreSQL, which
 * ocaml-session's own table lacks until migrated; a sorted set per owner in
 * Redis): a store shared as is with ocaml-session, or one with no secondary
 * index, cannot offer it. Check it at setup with {@link requireOwners}.
 */
export interface OwnerIndexBackend extends Backend {
  /** The owner's live sessions, oldest first. */
  listByOwner(owner: string): Promise<OwnedSession[]>;
  /** Removes every session of the owner (but `except`); resolves to how many were removed. */
  clearByOwner(owner: string, options?: ClearByOwnerOptions): Promise<number>;
  /**
   * Ends one of the owner's sessions by the digest `listByOwner` reports, for
   * a devices page whose "end this session" button carries only that digest
   * (never a usable key). Resolves to true when a live session was removed,
   * false when the owner has no such live session (a digest that is
   * malformed, unknown, expired or another owner's included: scoped to the
   * owner, it removes nothing then). Throws a `TypeError` for an invalid
   * owner or a non-string digest.
   */
  clearOwnedSession(owner: string, keyDigest: string): Promise<boolean>;
}

/** True when `backend` keeps sessions by owner. */
export function supportsOwners(backend: Backend): backend is OwnerIndexBackend {
  return hasShape(backend, { listByOwner: 'function', clearByOwner: 'function', clearOwnedSession: 'function' });
}

/** Throws a `TypeError` naming `feature` at setup time when `backend` keeps no sessions by owner. */
export function requireOwners(backend: Backend, feature: string): OwnerIndexBackend {
  if (!supportsOwners(backend)) {
    throw new TypeError(`${feature} needs a backend with listByOwner()/clearByOwner()/clearOwnedSession(); ${backend.constructor.name} has none`);
  }
  return backend;
}

import type { Backend } from './contract.js';
import { hasShape } from './validate.js';

/**
 * One live session as {@link EnumerableBackend.liveSessions} reports it. It
 * carries what the store holds for the key, never more: the key's digest
 * (`digestKey(key)`) when keys are hashed at rest, the key itself only on a
 * backend with `hashKeys: false` (and the memory backend, which holds keys in
 * the process).
 */
export interface LiveSession {
  /** The key as stored: its digest when `hashKeys` is true, else the key. */
  storedKey: string;
  /** The session's value; `null` for a live session that has none ("not set"). */
  value: string | null;
  /** Whole seconds until it expires (>= 0). */
  expiresInSeconds: number;
}

/**
 * Capability: enumerate and empty the whole store, for express-session's
 * `Store.all`, `length` and `clear` and for administration. These cost a scan
 * of the store (a table scan in PostgreSQL, SCAN on every master in Redis):
 * never on a request's path.
 *
 * Optional because not every store can list what it holds: a key-value
 * service without a key scan, or a store shared with other data under one
 * namespace, can keep every promise of `Backend` and still not count or
 * empty its own sessions. Only `SessionkitStore.all/length/clear/ids` and
 * administration need it.
 */
export interface EnumerableBackend extends Backend {
  /** Whether `storedKey` is a digest (true) or the key itself (false). */
  readonly hashKeys: boolean;
  /** How many sessions are live now. */
  countLive(): Promise<number>;
  /**
   * Every live session, in pages fetched as the iteration goes. A session
   * created, changed or removed during the iteration may or may not be seen;
   * one live throughout is seen exactly once.
   */
  liveSessions(): AsyncIterable<LiveSession>;
  /** Removes every session of this store (expired ones included); resolves to how many live ones were removed. */
  clearAll(): Promise<number>;
}

/** True when `backend` can enumerate and empty its store (memory, PostgreSQL and Redis can). */
export function supportsEnumeration(backend: Backend): backend is EnumerableBackend {
  return hasShape(backend, { countLive: 'function', liveSessions: 'function', clearAll: 'function', hashKeys: 'boolean' });
}

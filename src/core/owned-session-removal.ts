import type { Backend, OwnerIndexBackend } from './contract.js';

/**
 * Capability: end one of an owner's sessions by the digest `listByOwner`
 * reports, for a "your devices" page whose "end this session" button carries
 * only that digest (never a usable key). Scoped to the owner: a digest of
 * another owner's session removes nothing.
 */
export interface OwnedSessionRemovalBackend extends OwnerIndexBackend {
  /**
   * Removes the session of `owner` whose `keyDigest` is given; resolves to true
   * when a live session was removed, false when the owner has no such live
   * session (a digest that is malformed, unknown, expired or another owner's
   * included). Throws a `TypeError` for an invalid owner or a non-string digest.
   */
  clearOwnedSession(owner: string, keyDigest: string): Promise<boolean>;
}

/** True when `backend` can end one owned session by its digest (memory, PostgreSQL and Redis can). */
export function supportsOwnedSessionRemoval(backend: Backend): backend is OwnedSessionRemovalBackend {
  return typeof (backend as Partial<OwnedSessionRemovalBackend>).clearOwnedSession === 'function';
}

/** Throws a `TypeError` when `keyDigest` is not a string. */
export function assertKeyDigestIsString(keyDigest: unknown): asserts keyDigest is string {
  if (typeof keyDigest !== 'string') throw new TypeError('keyDigest must be a string');
}

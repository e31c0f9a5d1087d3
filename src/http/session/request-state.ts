import type { SessionStatus } from '../typed-session.js';
import type { Written } from './commit-loop.js';
import { CLEAR_COOKIE, NO_COOKIE, setCookie, type CookieDecision } from './cookie-decision.js';
import type { OwnExpiryChange } from './lifetime.js';
import type { Loaded } from './load.js';
import type { MoveClaim } from './move-claim.js';
import { nextRegeneration, shownSnapshot, type RegenerateRequest, type Regeneration } from './regeneration.js';
import { EMPTY_SNAPSHOT, type Snapshot } from './snapshot.js';
import type { SessionWrite } from './write-session.js';

/** A key to remove at the commit; `destroyed` when `destroy()` asked for it (reported as a `destroyed` event). */
export interface StaleKey {
  readonly key: string;
  readonly destroyed: boolean;
}

/**
 * Where one request's session stands, as one immutable value that each
 * step replaces whole (the field changes are kept apart, in a
 * `FieldOverlay`): the stored session the response points at (empty while
 * there is none, and during a regeneration), a pending regeneration, this
 * request's own period, the old key a regeneration claimed (put back if the
 * commit fails), the keys to remove at the commit, the cookie decision and
 * the status.
 */
export interface RequestState {
  readonly snapshot: Snapshot;
  readonly regeneration: Regeneration | undefined;
  readonly ownExpiry: OwnExpiryChange | undefined;
  readonly claim: MoveClaim | undefined;
  readonly staleKeys: readonly StaleKey[];
  readonly cookie: CookieDecision;
  readonly status: SessionStatus;
}

/** The state right after `load`: a session past its lifetime is a key to remove and a cookie to clear. */
export function loadedState(loaded: Loaded): RequestState {
  const expired = loaded.kind === 'expired';
  return {
    snapshot: loaded.kind === 'stored' ? loaded.snapshot : EMPTY_SNAPSHOT,
    regeneration: undefined,
    ownExpiry: undefined,
    claim: undefined,
    staleKeys: expired ? [{ key: loaded.key, destroyed: false }] : [],
    cookie: expired ? CLEAR_COOKIE : NO_COOKIE,
    status: 'unmodified',
  };
}

/** After `regenerate(request)`: the current key becomes stale and the regeneration pending; unchanged when there is nothing to do. */
export function regeneratedState(state: RequestState, request: RegenerateRequest): RequestState {
  const next = nextRegeneration(state.regeneration, state.snapshot, request);
  if (next === undefined) return state;
  const { key } = state.snapshot;
  const staleKeys = key === undefined ? state.staleKeys : [...state.staleKeys, { key, destroyed: false }];
  return { ...state, snapshot: EMPTY_SNAPSHOT, regeneration: next, staleKeys, status: 'modified' };
}

/** After `destroy()`: no session, its key to remove, and a clearing cookie when the client has (or gets) one. */
export function destroyedState(state: RequestState, hadCookie: boolean): RequestState {
  const { key } = state.snapshot;
  const hadSession = key !== undefined || state.staleKeys.length > 0;
  const staleKeys = key === undefined ? state.staleKeys : [...state.staleKeys, { key, destroyed: true }];
  const cookie = hadCookie || hadSession ? CLEAR_COOKIE : NO_COOKIE;
  return { ...state, snapshot: EMPTY_SNAPSHOT, regeneration: undefined, ownExpiry: undefined, staleKeys, cookie, status: 'destroyed' };
}

/**
 * After a write or renewal: the response points at what was written, its
 * cookie is set, and this request's own period counts as saved. A write that
 * created a key completes a pending regeneration (keeping the key it claimed);
 * one that met a session past its lifetime adds that key to the stale ones.
 */
export function writtenState(state: RequestState, { snapshot, ttlSeconds }: Written, write?: SessionWrite): RequestState {
  const ownExpiry = state.ownExpiry?.saved === false ? { ...state.ownExpiry, saved: true } : state.ownExpiry;
  const cookie = setCookie(snapshot.key, ttlSeconds, snapshot.ownExpirySeconds !== undefined);
  const expiredKey = write?.expiredKey;
  const staleKeys = expiredKey === undefined ? state.staleKeys : [...state.staleKeys, { key: expiredKey, destroyed: false }];
  if (write?.created !== true) return { ...state, snapshot, ownExpiry, cookie, staleKeys };
  return { ...state, snapshot, ownExpiry, cookie, staleKeys, regeneration: undefined, claim: write.claim ?? state.claim };
}

/** The stored session a request shows: the old one while a regeneration that keeps its data is pending. */
export function shownOf(state: RequestState): Snapshot {
  return shownSnapshot(state.snapshot, state.regeneration);
}

/** The key that names the request's session in the store: its own, or the one a pending regeneration moves from. */
export function currentKeyOf(state: RequestState): string | undefined {
  return state.snapshot.key ?? state.regeneration?.from?.key;
}

import { claimOldKey, restoreClaim, type MoveClaim } from './move-claim.js';
import { createSession, updateStored, type NewSessionBase, type Transform, type Written } from './commit-loop.js';
import type { StoreContext } from './store-context.js';
import { ownExpiryFor, type OwnExpiryChange } from './lifetime.js';
import { regenerationBase, type Regeneration } from './regeneration.js';
import type { Snapshot } from './snapshot.js';

/** What a write starts from: the stored session the request points at, a pending regeneration, this request's own period. */
export interface WriteState {
  readonly snapshot: Snapshot;
  readonly regeneration: Regeneration | undefined;
  readonly ownExpiry: OwnExpiryChange | undefined;
}

/** What a write did: the snapshot it left, and what the request must remember of it. */
export interface SessionWrite {
  readonly written: Written;
  /** Whether it created a new key (a first write, a regeneration, or a session gone meanwhile). */
  readonly created: boolean;
  /** The key a regeneration moved from, when it created one. */
  readonly fromKey: string | undefined;
  /** The old key the regeneration claimed, to put back if the commit fails later. */
  readonly claim: MoveClaim | undefined;
  /** A key to remove at the commit: the stored session ran out of its absolute lifetime during this request. */
  readonly expiredKey: string | undefined;
}

const NOTHING: NewSessionBase = Object.freeze({ data: Object.freeze({}), createdAtMs: undefined, owner: undefined, ownExpirySeconds: undefined, authenticatedAtMs: undefined });

/**
 * Writes `transform(stored data)` where it belongs: a compare-and-set on the
 * stored session, or a new session when there is none, it vanished
 * meanwhile (never revived: it starts over with this request's changes
 * only, and no owner), or a regeneration is pending (which first claims the
 * old key, so that of all regenerations of one session exactly one creates
 * a key). A failed creation puts a claimed key back.
 */
export async function writeSession(store: StoreContext, state: WriteState, transform: Transform): Promise<SessionWrite> {
  const { snapshot, regeneration, ownExpiry } = state;
  let expiredKey: string | undefined;
  if (snapshot.key !== undefined) {
    const outcome = await updateStored(store, snapshot, transform, ownExpiry);
    if (outcome.kind === 'written') return { written: outcome, created: false, fromKey: undefined, claim: undefined, expiredKey };
    if (outcome.pastLifetime) expiredKey = snapshot.key;
  }
  const from = regeneration?.from;
  const claim = from === undefined ? undefined : await claimOldKey(store, from);
  const base = regeneration === undefined ? NOTHING : regenerationBase(regeneration, claim);
  try {
    // Every base has every field, so this spread only overrides one: a spread that adds a property costs V8 a new hidden class each time.
    const written = await createSession(store, { ...base, ownExpirySeconds: ownExpiryFor(ownExpiry, base.ownExpirySeconds) }, transform);
    return { written, created: true, fromKey: from?.key, claim, expiredKey };
  } catch (error) {
    await restoreClaim(store, claim);
    throw error;
  }
}

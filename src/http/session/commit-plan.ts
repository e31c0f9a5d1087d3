import type { Backend } from '../../core/contract.js';
import type { FieldOverlay } from './field-overlay.js';
import type { Loaded } from './load.js';
import type { RequestState } from './request-state.js';
import type { StoredSnapshot } from './snapshot.js';

/** What the commit writes: the pending changes, a renewal of the loaded session's expiry, or nothing. */
export type CommitWork = { readonly kind: 'write' } | { readonly kind: 'renew'; readonly loaded: StoredSnapshot } | { readonly kind: 'none' };

/**
 * A write when a field changed, a regeneration is pending or a new own
 * period is unsaved (its expiry restarts now even when no field changed);
 * but unsetting fields of a session that does not exist yet creates nothing
 * (lazy). Otherwise a renewal of the session `load` read, when it is due
 * (touch throttling) and still the one the request points at; else nothing.
 */
export function commitWork(state: RequestState, overlay: FieldOverlay, loaded: Loaded): CommitWork {
  const { snapshot, regeneration, ownExpiry } = state;
  const periodUnsaved = ownExpiry?.saved === false;
  const pendingWrite = overlay.size > 0 || regeneration !== undefined || periodUnsaved;
  const createsEmpty = snapshot.key === undefined && regeneration === undefined && !periodUnsaved && Object.keys(overlay.apply({})).length === 0;
  if (pendingWrite && !createsEmpty) return { kind: 'write' };
  if (loaded.kind === 'stored' && loaded.renewalDue && snapshot === loaded.snapshot) return { kind: 'renew', loaded: loaded.snapshot };
  return { kind: 'none' };
}

/**
 * Removes the keys the request left behind (regenerated, destroyed, past
 * their lifetime), in order. If one removal fails, the client keeps its old
 * cookie, whose session is still there: a key this commit created (the
 * state's key when it is not `keyBefore`) is removed too, best effort, and
 * the failure rethrown.
 */
export async function removeStaleKeys(backend: Backend, state: RequestState, keyBefore: string | undefined): Promise<void> {
  try {
    for (const { key } of state.staleKeys) await backend.clear(key);
  } catch (error) {
    const { key } = state.snapshot;
    if (key !== undefined && key !== keyBefore) await backend.clear(key).catch(() => undefined);
    throw error;
  }
}

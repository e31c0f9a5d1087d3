import { describe, expect, it } from 'vitest';
import { CLEAR_COOKIE, NO_COOKIE } from '../../../src/http/session/cookie-decision.js';
import { currentKeyOf, destroyedState, loadedState, regeneratedState, shownOf, writtenState } from '../../../src/http/session/request-state.js';
import { EMPTY_SNAPSHOT, type StoredSnapshot } from '../../../src/http/session/snapshot.js';

const stored = (key: string): StoredSnapshot => ({ key, raw: '{}', data: { a: 1 }, owner: 'ann', createdAtMs: 5, expiresAtMs: 9, ownExpirySeconds: undefined });

describe('RequestState', () => {
  it('a session past its lifetime loads as a key to remove and a cookie to clear; a stored one as the snapshot shown', () => {
    expect(loadedState({ kind: 'expired', key: 'old' })).toMatchObject({ snapshot: EMPTY_SNAPSHOT, staleKeys: [{ key: 'old', destroyed: false }], cookie: CLEAR_COOKIE });
    expect(loadedState({ kind: 'stored', snapshot: stored('k'), renewalDue: false })).toMatchObject({ snapshot: stored('k'), staleKeys: [], cookie: NO_COOKIE, status: 'unmodified' });
  });

  it('regenerate makes the key stale and shows the old data while pending; a write that created a key completes it', () => {
    const loaded = loadedState({ kind: 'stored', snapshot: stored('k'), renewalDue: false });
    const pending = regeneratedState(loaded, { owner: undefined, keepData: true });
    expect(pending).toMatchObject({ snapshot: EMPTY_SNAPSHOT, staleKeys: [{ key: 'k', destroyed: false }], status: 'modified' });
    expect(shownOf(pending).data).toEqual({ a: 1 });
    expect(currentKeyOf(pending)).toBe('k');
    const claim = { key: 'k', raw: '{}', envelope: { createdAtMs: 5, data: {} }, expiresAtMs: 9 };
    const written = { snapshot: stored('new'), ttlSeconds: 60 };
    const done = writtenState(pending, written, { written, created: true, fromKey: 'k', claim, expiredKey: undefined });
    expect(done).toMatchObject({ snapshot: stored('new'), regeneration: undefined, claim, cookie: { kind: 'set', key: 'new', maxAgeSeconds: 60 } });
    // Nothing to regenerate: no session and no owner.
    const empty = loadedState({ kind: 'none', hadKey: false });
    expect(regeneratedState(empty, { owner: undefined, keepData: true })).toBe(empty);
  });

  it('destroy clears the cookie only when the client has one or had a session; the destroyed key is reported', () => {
    expect(destroyedState(loadedState({ kind: 'none', hadKey: false }), false).cookie).toBe(NO_COOKIE);
    expect(destroyedState(loadedState({ kind: 'none', hadKey: true }), true).cookie).toBe(CLEAR_COOKIE);
    const destroyed = destroyedState(loadedState({ kind: 'stored', snapshot: stored('k'), renewalDue: false }), true);
    expect(destroyed).toMatchObject({ snapshot: EMPTY_SNAPSHOT, staleKeys: [{ key: 'k', destroyed: true }], cookie: CLEAR_COOKIE, status: 'destroyed' });
  });

  it('a write that met a session past its lifetime adds that key to the stale ones; this request\'s own period counts as saved', () => {
    const state = { ...loadedState({ kind: 'none', hadKey: false }), ownExpiry: { periodSeconds: 600, saved: false } };
    const written = { snapshot: stored('new'), ttlSeconds: 600 };
    const after = writtenState(state, written, { written, created: true, fromKey: undefined, claim: undefined, expiredKey: 'old' });
    expect(after.staleKeys).toEqual([{ key: 'old', destroyed: false }]);
    expect(after.ownExpiry).toEqual({ periodSeconds: 600, saved: true });
  });
});

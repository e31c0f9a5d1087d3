import { describe, expect, it } from 'vitest';
import { EMPTY_SNAPSHOT, type StoredSnapshot } from '../../../src/http/session/snapshot.js';
import { nextRegeneration, regenerationBase, shownSnapshot } from '../../../src/http/session/regeneration.js';

const old: StoredSnapshot = { key: 'old', raw: '{}', data: { a: 1 }, owner: 'ann', createdAtMs: 5, expiresAtMs: 9, ownExpirySeconds: undefined };

describe('regeneration', () => {
  it('from a stored session: moves from it; the view keeps its data only with keepData', () => {
    const kept = nextRegeneration(undefined, old, { owner: undefined, keepData: true })!;
    expect(kept).toEqual({ from: old, keepData: true, owner: undefined });
    expect(shownSnapshot(EMPTY_SNAPSHOT, kept)).toBe(old);
    const dropped = nextRegeneration(undefined, old, { owner: undefined, keepData: false })!;
    expect(shownSnapshot(EMPTY_SNAPSHOT, dropped)).toBe(EMPTY_SNAPSHOT);
  });

  it('without a session: nothing to do unless logging in as an owner', () => {
    expect(nextRegeneration(undefined, EMPTY_SNAPSHOT, { owner: undefined, keepData: true })).toBeUndefined();
    expect(nextRegeneration(undefined, EMPTY_SNAPSHOT, { owner: 'bob', keepData: true })).toEqual({ from: undefined, keepData: true, owner: 'bob' });
  });

  it('calls compose: the first old key stays, keepData: false wins, an omitted owner survives only while data is kept', () => {
    const first = nextRegeneration(undefined, old, { owner: 'bob', keepData: true })!;
    expect(nextRegeneration(first, EMPTY_SNAPSHOT, { owner: undefined, keepData: true })).toEqual({ from: old, keepData: true, owner: 'bob' });
    expect(nextRegeneration(first, EMPTY_SNAPSHOT, { owner: undefined, keepData: false })).toEqual({ from: old, keepData: false, owner: undefined });
  });

  it('the new key starts from the claimed session when kept, else from nothing (also a login without a session); the given owner wins', () => {
    const claimed = { key: 'old', raw: '{}', envelope: { createdAtMs: 7, owner: 'ann', data: { a: 2 } }, expiresAtMs: 9 } as const;
    const keep = { from: old, keepData: true, owner: undefined };
    expect(regenerationBase(keep, claimed)).toEqual({ data: { a: 2 }, createdAtMs: 7, owner: 'ann' });
    expect(regenerationBase({ ...keep, owner: 'bob' }, claimed)).toEqual({ data: { a: 2 }, createdAtMs: 7, owner: 'bob' });
    expect(regenerationBase({ ...keep, keepData: false }, claimed)).toEqual({ data: {}, createdAtMs: undefined, owner: undefined });
    expect(regenerationBase({ from: undefined, keepData: true, owner: 'ann' }, undefined)).toEqual({ data: {}, createdAtMs: undefined, owner: 'ann' });
  });

  it("the new key keeps the old session's own period only with its data", () => {
    const claimed = { key: 'old', raw: '{}', envelope: { createdAtMs: 7, data: {}, ownPeriodSeconds: 600 }, expiresAtMs: 9 } as const;
    const keep = { from: old, keepData: true, owner: undefined };
    expect(regenerationBase(keep, claimed).ownExpirySeconds).toBe(600);
    expect(regenerationBase({ ...keep, keepData: false }, claimed).ownExpirySeconds).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/index.js';
import { commitWork, removeStaleKeys } from '../../../src/http/session/commit-plan.js';
import { FieldOverlay } from '../../../src/http/session/field-overlay.js';
import { loadedState } from '../../../src/http/session/request-state.js';
import { storeFixture } from './store-fixture.js';

describe('what the commit does', () => {
  it('writes changes; creates nothing for unsets alone; renews a due, untouched session; else nothing', async () => {
    const { snapshot } = await storeFixture();
    const due = { kind: 'stored' as const, snapshot, renewalDue: true };
    const none = { kind: 'none' as const, hadKey: false };
    const changed = new FieldOverlay();
    changed.set('a', 1);
    const unsetOnly = new FieldOverlay();
    unsetOnly.unset('a');
    expect(commitWork(loadedState(none), changed, none)).toEqual({ kind: 'write' });
    expect(commitWork(loadedState(none), unsetOnly, none)).toEqual({ kind: 'none' });
    expect(commitWork({ ...loadedState(none), ownExpiry: { periodSeconds: 60, saved: false } }, new FieldOverlay(), none)).toEqual({ kind: 'write' });
    expect(commitWork(loadedState(due), new FieldOverlay(), due)).toEqual({ kind: 'renew', loaded: snapshot });
    expect(commitWork(loadedState({ ...due, renewalDue: false }), new FieldOverlay(), { ...due, renewalDue: false })).toEqual({ kind: 'none' });
  });

  it('a failed removal of a stale key removes the key this commit created and rethrows', async () => {
    const { memory, snapshot } = await storeFixture();
    const created = await memory.generate({ value: 'new' });
    const outage = new BackendError('unavailable', 'test outage');
    const clear = memory.clear.bind(memory);
    let calls = 0;
    memory.clear = (key) => (++calls === 1 ? Promise.reject(outage) : clear(key));
    const state = { ...loadedState({ kind: 'none', hadKey: false }), snapshot: { ...snapshot, key: created }, staleKeys: [{ key: snapshot.key, destroyed: false }] };
    await expect(removeStaleKeys(memory, state, snapshot.key)).rejects.toBe(outage);
    expect(await memory.get(created)).toEqual({ ok: false, error: 'NotFound' });
    expect(await memory.get(snapshot.key)).toMatchObject({ ok: true });
  });
});

import { describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/index.js';
import { MOVED_TOMBSTONE } from '../../../src/http/session/move-claim.js';
import { EMPTY_SNAPSHOT } from '../../../src/http/session/snapshot.js';
import { writeSession } from '../../../src/http/session/write-session.js';
import { storeFixture } from './store-fixture.js';

const add = (stored: Record<string, unknown>) => ({ data: { ...stored, added: true } });

describe('writeSession: where a write goes', () => {
  it('onto the stored session by compare-and-set, creating nothing', async () => {
    const { memory, context, snapshot } = await storeFixture();
    const write = await writeSession(context, { snapshot, regeneration: undefined, ownExpiry: undefined }, add);
    expect(write).toMatchObject({ created: false, fromKey: undefined, claim: undefined, expiredKey: undefined });
    expect(write.written.snapshot).toMatchObject({ key: snapshot.key, data: { cart: 'x', added: true } });
    expect(memory.size).toBe(1);
  });

  it('to a new key with only this request\'s changes when the stored session vanished: never revived', async () => {
    const { memory, context, snapshot } = await storeFixture();
    await memory.clear(snapshot.key);
    const write = await writeSession(context, { snapshot, regeneration: undefined, ownExpiry: undefined }, add);
    expect(write.created).toBe(true);
    expect(write.written.snapshot.key).not.toBe(snapshot.key);
    expect(write.written.snapshot.data).toEqual({ added: true });
  });

  it('for a regeneration: claims the old key, then creates the new one from its latest data', async () => {
    const { memory, context, snapshot } = await storeFixture();
    const write = await writeSession(context, { snapshot: EMPTY_SNAPSHOT, regeneration: { from: snapshot, keepData: true, owner: undefined }, ownExpiry: undefined }, add);
    expect(write).toMatchObject({ created: true, fromKey: snapshot.key, claim: { key: snapshot.key } });
    expect(write.written.snapshot.data).toEqual({ cart: 'x', added: true });
    expect(await memory.get(snapshot.key)).toMatchObject({ ok: true, value: MOVED_TOMBSTONE });
  });

  it('a failed creation puts the claimed key back and rethrows', async () => {
    const { memory, context, snapshot, raw } = await storeFixture();
    const outage = new BackendError('unavailable', 'test outage');
    memory.generate = () => Promise.reject(outage);
    const regeneration = { from: snapshot, keepData: true, owner: undefined };
    await expect(writeSession(context, { snapshot: EMPTY_SNAPSHOT, regeneration, ownExpiry: undefined }, add)).rejects.toBe(outage);
    expect(await memory.get(snapshot.key)).toMatchObject({ ok: true, value: raw });
  });
});

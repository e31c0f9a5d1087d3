import { describe, expect, it } from 'vitest';
import { digestKey } from '../../../src/index.js';
import { clearOwnerSessions, keepCurrentOption, listOwnerSessions, ownerIndex } from '../../../src/http/session/owner-actions.js';
import { storeFixture } from './store-fixture.js';

describe('owner operations', () => {
  it('list and clear an owner\'s sessions, marking and keeping the current one; none without an owner', async () => {
    const { memory, context, events } = await storeFixture({ owners: true });
    const backend = ownerIndex(context.options, 'test');
    const [mine, other] = [await memory.generate({ owner: 'ann' }), await memory.generate({ owner: 'ann' })];
    const listed = await listOwnerSessions(context, backend, 'ann', mine);
    expect(listed.find((s) => s.keyDigest === digestKey(mine))?.current).toBe(true);
    expect(listed.find((s) => s.keyDigest === digestKey(other))?.current).toBe(false);
    expect(await listOwnerSessions(context, backend, undefined, mine)).toEqual([]);
    expect(await clearOwnerSessions(context, backend, undefined, undefined)).toBe(0);
    expect(await clearOwnerSessions(context, backend, 'ann', mine)).toBe(1);
    expect(events.filter((event) => event.type === 'pruned')).toMatchObject([{ deletedCount: 1 }]);
  });

  it('without owners: true the owner index is a TypeError naming the feature; keepCurrent must be a boolean', async () => {
    const { context } = await storeFixture();
    expect(() => ownerIndex(context.options, 'listOwnSessions()')).toThrow(/listOwnSessions\(\) needs the session option owners: true/);
    expect(keepCurrentOption({})).toBe(false);
    expect(() => keepCurrentOption({ keepCurrent: 'yes' as never })).toThrow(TypeError);
    expect(() => keepCurrentOption(null as never)).toThrow(TypeError);
  });
});

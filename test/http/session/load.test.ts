import { describe, expect, it } from 'vitest';
import { readSessionCookie, type CookieHeader } from '../../../src/http/read-cookie.js';
import { loadSession as loadWithKey, readStored } from '../../../src/http/session/load.js';
import { MOVED_TOMBSTONE } from '../../../src/http/session/move-claim.js';
import { storeFixture } from './store-fixture.js';

/** `loadSession` on the key a `Cookie` header sends, as the engine reads it. */
const loadSession = (context: Parameters<typeof loadWithKey>[0], cookieHeader: CookieHeader) => loadWithKey(context, readSessionCookie(cookieHeader, 'sid'));

describe('loadSession and readStored', () => {
  it('a well-formed cookie naming a typed session loads it; anything else is no session, telling whether a session cookie came', async () => {
    const { memory, context, snapshot } = await storeFixture();
    expect(await loadSession(context, `sid=${snapshot.key}`)).toMatchObject({ kind: 'stored', snapshot: { key: snapshot.key, data: { cart: 'x' } }, renewalDue: false });
    expect(await loadSession(context, undefined)).toEqual({ kind: 'none', hadKey: false });
    expect(await loadSession(context, 'sid=not%20a%20key')).toEqual({ kind: 'none', hadKey: true });
    await memory.set(snapshot.key, MOVED_TOMBSTONE);
    expect(await loadSession(context, `sid=${snapshot.key}`)).toEqual({ kind: 'none', hadKey: true });
    expect(await readStored(context, snapshot.key, 'reload')).toBeUndefined();
  });

  it('a session past its absolute lifetime is expired, reported as expired-on-read', async () => {
    const { context, snapshot, events } = await storeFixture({ absoluteLifetimeSeconds: 1, nowMs: () => Date.now() + 5000 });
    expect(await loadSession(context, `sid=${snapshot.key}`)).toEqual({ kind: 'expired', key: snapshot.key });
    expect(events.map((event) => event.type)).toEqual(['expired-on-read']);
  });
});

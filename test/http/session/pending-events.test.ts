import { describe, expect, it } from 'vitest';
import { digestKey, generateKey, type SessionEvent } from '../../../src/index.js';
import { HttpEvents } from '../../../src/http/http-events.js';
import { PendingEvents } from '../../../src/http/session/pending-events.js';
import type { SessionWrite } from '../../../src/http/session/write-session.js';

const write = (key: string, created: boolean, fromKey?: string, owner?: string): SessionWrite => ({
  written: { snapshot: { key, raw: '{}', data: {}, owner, createdAtMs: 0, expiresAtMs: 0, ownExpirySeconds: undefined }, ttlSeconds: 60 },
  created,
  fromKey,
  claim: undefined,
  expiredKey: undefined,
});

describe('PendingEvents', () => {
  it('queues created, regenerated and destroyed events by digest, and emits those a flush selects, in order', () => {
    const seen: SessionEvent[] = [];
    const pending = new PendingEvents(new HttpEvents((event) => seen.push(event)));
    const [fresh, moved, old, gone] = [generateKey(), generateKey(), generateKey(), generateKey()];
    pending.wrote(write(fresh, true, undefined, 'ann'));
    pending.wrote(write(moved, true, old));
    pending.wrote(write(generateKey(), false));
    pending.destroyed([{ key: gone, destroyed: true }, { key: old, destroyed: false }]);
    pending.flush((event) => event.type === 'created');
    expect(seen).toEqual([{ type: 'created', store: 'http', keyDigest: digestKey(fresh), owner: 'ann' }]);
    pending.flush();
    expect(seen.slice(1)).toEqual([
      { type: 'regenerated', store: 'http', fromDigest: digestKey(old), toDigest: digestKey(moved) },
      { type: 'destroyed', store: 'http', keyDigest: digestKey(gone) },
    ]);
    pending.flush();
    expect(seen).toHaveLength(3);
  });

  it('builds nothing when nobody listens', () => {
    const pending = new PendingEvents(new HttpEvents(undefined));
    pending.wrote(write(generateKey(), true));
    expect(() => pending.flush()).not.toThrow();
  });
});

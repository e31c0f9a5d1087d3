import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../../src/http/envelope.js';
import { SessionDataTooLargeError } from '../../../src/http/index.js';
import { EMPTY_SNAPSHOT, encodeWithin, storedSnapshot } from '../../../src/http/session/snapshot.js';

describe('snapshot', () => {
  it('storedSnapshot holds the key, the raw value and what it decodes to, expiring secondsLeft from now', () => {
    const raw = encodeEnvelope({ createdAtMs: 1000, owner: 'ann', data: { a: 1 } });
    const snapshot = storedSnapshot('k1', raw, decodeEnvelope(raw)!, 50_000, 30);
    expect(snapshot).toEqual({ key: 'k1', raw, data: { a: 1 }, owner: 'ann', createdAtMs: 1000, expiresAtMs: 80_000 });
  });

  it('the empty snapshot has no key and frozen empty data', () => {
    expect(EMPTY_SNAPSHOT.key).toBeUndefined();
    expect(EMPTY_SNAPSHOT.data).toEqual({});
    expect(Object.isFrozen(EMPTY_SNAPSHOT.data)).toBe(true);
    expect(Object.isFrozen(EMPTY_SNAPSHOT)).toBe(true);
  });

  it('encodeWithin counts UTF-8 bytes: at the limit it encodes, one byte over it throws with both sizes', () => {
    const envelope = { createdAtMs: 1, data: { s: 'é'.repeat(10) } };
    const bytes = Buffer.byteLength(encodeEnvelope(envelope), 'utf8');
    expect(encodeWithin(envelope, bytes)).toBe(encodeEnvelope(envelope));
    const error = (() => {
      try {
        encodeWithin(envelope, bytes - 1);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SessionDataTooLargeError);
    expect(error).toMatchObject({ bytes, maxBytes: bytes - 1 });
  });
});

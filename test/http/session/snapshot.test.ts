import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../../src/http/envelope.js';
import { HttpEvents } from '../../../src/http/http-events.js';
import { SessionDataTooLargeError } from '../../../src/http/index.js';
import type { RequestClient } from '../../../src/http/request-client.js';
import { resolveSessionOptions } from '../../../src/http/session-options.js';
import { EMPTY_SNAPSHOT, encodeWithin, storedSnapshot } from '../../../src/http/session/snapshot.js';
import { MemoryBackend } from '../../../src/index.js';

/** The commit loop's context with a clock at `nowMs`, bound to `maxDataBytes`, recording `client`. */
function contextAt(nowMs: number, maxDataBytes: number, client?: RequestClient) {
  const options = resolveSessionOptions(new MemoryBackend(), { nowMs: () => nowMs, maxDataBytes });
  return { options, events: new HttpEvents(undefined), client };
}

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

  it('encodeWithin stamps the time and the client it is given, and leaves out what is not recorded', () => {
    const envelope = { createdAtMs: 1, data: { a: 1 } };
    expect(decodeEnvelope(encodeWithin(envelope, contextAt(5000, 1000)))).toStrictEqual({ ...envelope, lastSeenAtMs: 5000 });
    const client = { userAgent: 'Firefox', clientAddress: '192.0.2.1' };
    expect(decodeEnvelope(encodeWithin(envelope, contextAt(6000, 1000, client)))).toStrictEqual({ ...envelope, lastSeenAtMs: 6000, ...client });
    expect(decodeEnvelope(encodeWithin(envelope, contextAt(6000, 1000, { userAgent: 'Firefox' })))).toStrictEqual({ ...envelope, lastSeenAtMs: 6000, userAgent: 'Firefox' });
  });

  it('encodeWithin counts UTF-8 bytes, the stamp included: at the limit it encodes, one byte over it throws with both sizes', () => {
    const envelope = { createdAtMs: 1, data: { s: 'é'.repeat(10) } };
    const stamped = { ...envelope, lastSeenAtMs: 2, userAgent: 'Ünïcode agent' };
    const bytes = Buffer.byteLength(encodeEnvelope(stamped), 'utf8');
    expect(encodeWithin(envelope, contextAt(2, bytes, { userAgent: 'Ünïcode agent' }))).toBe(encodeEnvelope(stamped));
    const error = (() => {
      try {
        encodeWithin(envelope, contextAt(2, bytes - 1, { userAgent: 'Ünïcode agent' }));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SessionDataTooLargeError);
    expect(error).toMatchObject({ bytes, maxBytes: bytes - 1 });
  });
});

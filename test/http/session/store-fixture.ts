import { onTestFinished } from 'vitest';
import { MemoryBackend, type SessionEvent } from '../../../src/index.js';
import { decodeEnvelope, encodeEnvelope } from '../../../src/http/envelope.js';
import { HttpEvents } from '../../../src/http/http-events.js';
import type { SessionOptions } from '../../../src/http/index.js';
import { resolveSessionOptions } from '../../../src/http/session-options.js';
import { storedSnapshot } from '../../../src/http/session/snapshot.js';

/** A memory store, the session rules' context over it (events recorded), and one stored session `{ cart: 'x' }`; closed when the test ends. */
export async function storeFixture(options: SessionOptions = {}) {
  const memory = new MemoryBackend();
  onTestFinished(() => memory.close());
  const events: SessionEvent[] = [];
  const resolved = resolveSessionOptions(memory, { idleTimeoutSeconds: 3600, onEvent: (event) => events.push(event), ...options });
  const context = { options: resolved, events: new HttpEvents(resolved.onEvent) };
  const raw = encodeEnvelope({ createdAtMs: Date.now(), owner: undefined, data: { cart: 'x' } });
  const key = await memory.generate({ value: raw, expiry: 3600 });
  const snapshot = storedSnapshot(key, raw, decodeEnvelope(raw)!, Date.now(), 3600);
  return { memory, context, snapshot, raw, events };
}

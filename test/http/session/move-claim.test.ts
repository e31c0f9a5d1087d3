import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../../src/index.js';
import { decodeEnvelope, encodeEnvelope } from '../../../src/http/envelope.js';
import { HttpEvents } from '../../../src/http/http-events.js';
import { SessionConflictError, SessionEngine, SessionRegeneratedError } from '../../../src/http/index.js';
import { resolveSessionOptions } from '../../../src/http/session-options.js';
import { claimOldKey, MOVED_TOMBSTONE, MOVED_TOMBSTONE_SECONDS, restoreClaim } from '../../../src/http/session/move-claim.js';
import { storedSnapshot } from '../../../src/http/session/snapshot.js';

const opened: MemoryBackend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

async function setup() {
  const memory = new MemoryBackend();
  opened.push(memory);
  const options = resolveSessionOptions(memory, { idleTimeoutSeconds: 3600 });
  const context = { options, events: new HttpEvents(undefined) };
  const raw = encodeEnvelope({ createdAtMs: Date.now(), owner: undefined, data: { cart: 'x' } });
  const key = await memory.generate({ value: raw, expiry: 3600 });
  const snapshot = storedSnapshot(key, raw, decodeEnvelope(raw)!, Date.now(), 3600);
  return { memory, context, snapshot, raw };
}

describe('the old key of a regeneration is claimed with a tombstone', () => {
  it('the claim replaces the value with a short-lived tombstone that no reader takes for a session', async () => {
    const { memory, context, snapshot, raw } = await setup();
    const claim = await claimOldKey(context, snapshot);
    expect(claim).toMatchObject({ key: snapshot.key, raw, envelope: { data: { cart: 'x' } } });
    const stored = await memory.get(snapshot.key);
    expect(stored).toMatchObject({ ok: true, value: MOVED_TOMBSTONE });
    expect(stored.ok && stored.period).toBeLessThanOrEqual(MOVED_TOMBSTONE_SECONDS);
    expect(decodeEnvelope(MOVED_TOMBSTONE)).toBeUndefined();
    const engine = new SessionEngine(memory);
    expect((await engine.load(`sid=${snapshot.key}`)).session.isNew).toBe(true);
  });

  it('a second claim of the same session loses with a SessionRegeneratedError (a SessionConflictError)', async () => {
    const { context, snapshot } = await setup();
    await claimOldKey(context, snapshot);
    const lost = claimOldKey(context, snapshot);
    await expect(lost).rejects.toBeInstanceOf(SessionRegeneratedError);
    await expect(lost).rejects.toBeInstanceOf(SessionConflictError);
  });

  it('a claim whose key was removed meanwhile (a winner done, or a logout) is refused: no store state tells a late loser from a logout', async () => {
    const { memory, context, snapshot } = await setup();
    await claimOldKey(context, snapshot);
    await memory.clear(snapshot.key);
    const late = claimOldKey(context, snapshot);
    await expect(late).rejects.toBeInstanceOf(SessionRegeneratedError);
    await expect(late).rejects.toMatchObject({ reason: 'ended' });
  });

  it('a claim that meets the tombstone says the session was regenerated; one that meets a value that is no session says it ended', async () => {
    const { memory, context, snapshot } = await setup();
    await claimOldKey(context, snapshot);
    await expect(claimOldKey(context, snapshot)).rejects.toMatchObject({ reason: 'regenerated' });
    await memory.set(snapshot.key, 'not a typed session', { expiry: 60 });
    await expect(claimOldKey(context, snapshot)).rejects.toMatchObject({ reason: 'ended' });
  });

  it('an ordinary write in between is retried: the claim takes the latest session', async () => {
    const { memory, context, snapshot } = await setup();
    const newer = encodeEnvelope({ createdAtMs: snapshot.createdAtMs, data: { cart: 'x', seen: true } });
    await memory.set(snapshot.key, newer, { expiry: 3600 });
    const claim = await claimOldKey(context, snapshot);
    expect(claim).toMatchObject({ raw: newer, envelope: { data: { cart: 'x', seen: true } } });
  });

  it('restoreClaim puts the session back after a failed regeneration', async () => {
    const { memory, context, snapshot, raw } = await setup();
    const claim = await claimOldKey(context, snapshot);
    await restoreClaim(context, claim);
    const stored = await memory.get(snapshot.key);
    expect(stored).toMatchObject({ ok: true, value: raw });
    expect(stored.ok && stored.period).toBeGreaterThan(3500);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend, type SessionEvent } from '../../../src/index.js';
import { decodeEnvelope, encodeEnvelope } from '../../../src/http/envelope.js';
import { HttpEvents } from '../../../src/http/http-events.js';
import { SessionConflictError, type SessionOptions } from '../../../src/http/index.js';
import { resolveSessionOptions } from '../../../src/http/session-options.js';
import { createSession, retryDelayMs, updateStored } from '../../../src/http/session/commit-loop.js';
import { storedSnapshot } from '../../../src/http/session/snapshot.js';
import { TestClock } from '../support/instrumented-backend.js';

/** A memory store where another writer changes the value right before each of this request's compare-and-sets. */
class ContendedMemory extends MemoryBackend {
  contended = 0;
  override async compareAndSet(...args: Parameters<MemoryBackend['compareAndSet']>) {
    if (this.contended > 0) {
      this.contended -= 1;
      const current = await this.get(args[0]);
      const envelope = current.ok ? decodeEnvelope(current.value)! : undefined;
      if (envelope) await this.set(args[0], encodeEnvelope({ ...envelope, data: { ...envelope.data, other: this.contended } }));
    }
    return super.compareAndSet(...args);
  }
}

const opened: MemoryBackend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

async function setup(options: SessionOptions = {}) {
  const clock = new TestClock();
  const memory = new ContendedMemory({ nowMs: clock.monotonicMs });
  opened.push(memory);
  const events: SessionEvent[] = [];
  const resolved = resolveSessionOptions(memory, { nowMs: clock.nowMs, idleTimeoutSeconds: 100, onEvent: (e) => events.push(e), ...options });
  const context = { options: resolved, events: new HttpEvents(resolved.onEvent) };
  const raw = encodeEnvelope({ createdAtMs: clock.nowMs(), data: { a: 1 } });
  const key = await memory.generate({ value: raw, expiry: 100 });
  const snapshot = storedSnapshot(key, raw, decodeEnvelope(raw)!, clock.nowMs(), 100);
  return { memory, clock, context, snapshot, events };
}

describe('commit loop: updateStored', () => {
  it('writes the transformed data with one compare-and-set and returns the new snapshot', async () => {
    const { memory, context, snapshot } = await setup();
    const outcome = await updateStored(context, snapshot, (stored) => ({ data: { ...stored, b: 2 } }));
    expect(outcome).toMatchObject({ kind: 'written', ttlSeconds: 100, snapshot: { key: snapshot.key, data: { a: 1, b: 2 } } });
    const stored = await memory.get(snapshot.key);
    expect(stored.ok && stored.value).toBe(outcome.kind === 'written' && outcome.snapshot.raw);
  });

  it('a conflict is re-read and retried: the transform runs again on the fresher data, with a conflict-retried event', async () => {
    const { memory, context, snapshot, events } = await setup();
    memory.contended = 2;
    const seen: unknown[] = [];
    const outcome = await updateStored(context, snapshot, (stored) => (seen.push(stored), { data: { ...stored, b: 2 } }));
    expect(seen).toEqual([{ a: 1 }, { a: 1, other: 1 }, { a: 1, other: 0 }]);
    expect(outcome).toMatchObject({ kind: 'written', snapshot: { data: { a: 1, other: 0, b: 2 } } });
    expect(events.filter((e) => e.type === 'conflict-retried').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
  });

  it('gives up after maxUpdateAttempts with a SessionConflictError, having written nothing of its own', async () => {
    const { memory, context, snapshot } = await setup({ maxUpdateAttempts: 3 });
    memory.contended = 3;
    await expect(updateStored(context, snapshot, (stored) => ({ data: { ...stored, mine: true } }))).rejects.toMatchObject({ name: 'SessionConflictError', attempts: 3 });
    const stored = await memory.get(snapshot.key);
    expect(stored.ok && decodeEnvelope(stored.value)!.data).not.toHaveProperty('mine');
  });

  it('a key that vanished is gone (never revived); one past its absolute lifetime is gone and stale', async () => {
    const { memory, context, snapshot, clock } = await setup();
    await memory.clear(snapshot.key);
    expect(await updateStored(context, snapshot, (s) => ({ data: s }))).toEqual({ kind: 'gone', pastLifetime: false });
    expect(await memory.get(snapshot.key)).toEqual({ ok: false, error: 'NotFound' });

    const limited = await setup({ absoluteLifetimeSeconds: 50 });
    limited.clock.advance(50);
    expect(await updateStored(limited.context, limited.snapshot, (s) => ({ data: s }))).toEqual({ kind: 'gone', pastLifetime: true });
    void clock;
  });

  it("the stored own period is kept, also one another request set meanwhile; this request's setExpirySeconds wins over it", async () => {
    const { memory, context, snapshot } = await setup();
    // Another request gave the session its own period after this one read it.
    await memory.set(snapshot.key, encodeEnvelope({ createdAtMs: snapshot.createdAtMs, data: { a: 1 }, ownPeriodSeconds: 600 }));
    const kept = await updateStored(context, snapshot, (stored) => ({ data: { ...stored, b: 2 } }));
    expect(kept).toMatchObject({ kind: 'written', ttlSeconds: 600, snapshot: { ownExpirySeconds: 600, data: { a: 1, b: 2 } } });
    expect(await memory.get(snapshot.key)).toMatchObject({ ok: true, period: 600 });
    if (kept.kind !== 'written') return;
    const reset = await updateStored(context, kept.snapshot, (stored) => ({ data: stored }), { periodSeconds: undefined, saved: false });
    expect(reset).toMatchObject({ kind: 'written', ttlSeconds: 100, snapshot: { ownExpirySeconds: undefined } });
    const stored = await memory.get(snapshot.key);
    expect(stored.ok && decodeEnvelope(stored.value)!.ownPeriodSeconds).toBeUndefined();
  });

  it('retry delays are full jitter below min(100, 2^attempt) ms', () => {
    for (let i = 0; i < 200; i++) {
      expect(retryDelayMs(1)).toBeLessThan(2);
      expect(retryDelayMs(10)).toBeLessThan(100);
      expect(retryDelayMs(3)).toBeGreaterThanOrEqual(0);
    }
  });

  it('SessionConflictError is what a lost loop throws', () => {
    expect(new SessionConflictError(2)).toMatchObject({ code: 'conflict', attempts: 2 });
  });
});

describe('commit loop: createSession', () => {
  it('creates under a new key with the base data transformed, keeping a creation time still inside the lifetime', async () => {
    const { memory, context, clock } = await setup({ absoluteLifetimeSeconds: 1000 });
    const createdAtMs = clock.nowMs() - 10_000;
    const { snapshot, ttlSeconds } = await createSession(context, { data: { a: 1 }, createdAtMs, owner: undefined, ownExpirySeconds: undefined, authenticatedAtMs: undefined }, (d) => ({ data: { ...d, b: 2 } }));
    expect(ttlSeconds).toBe(100);
    expect(snapshot).toMatchObject({ data: { a: 1, b: 2 }, createdAtMs, owner: undefined });
    const stored = await memory.get(snapshot.key);
    expect(stored.ok && stored.value).toBe(snapshot.raw);
  });

  it('a creation time past the lifetime (or none) becomes now; an owner files the key under it', async () => {
    const { memory, context, clock } = await setup({ absoluteLifetimeSeconds: 50, owners: true });
    const past = await createSession(context, { data: {}, createdAtMs: clock.nowMs() - 60_000, owner: 'ann', ownExpirySeconds: undefined, authenticatedAtMs: undefined }, (d) => ({ data: d }));
    expect(past.snapshot.createdAtMs).toBe(clock.nowMs());
    expect(past.ttlSeconds).toBe(50);
    expect((await memory.listByOwner('ann')).length).toBe(1);
  });

  it('a base with its own period stores it in the envelope and gives it as the expiry', async () => {
    const { memory, context } = await setup();
    const { snapshot, ttlSeconds } = await createSession(context, { data: {}, createdAtMs: undefined, owner: undefined, ownExpirySeconds: 900, authenticatedAtMs: undefined }, (d) => ({ data: d }));
    expect(ttlSeconds).toBe(900);
    expect(snapshot.ownExpirySeconds).toBe(900);
    const stored = await memory.get(snapshot.key);
    expect(stored.ok && decodeEnvelope(stored.value)!.ownPeriodSeconds).toBe(900);
  });
});

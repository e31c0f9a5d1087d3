import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, digestKey, MemoryBackend, type SessionEvent } from '../../src/index.js';
import { HTTP_EVENT_STORE, SessionConflictError, SessionEngine, type SessionOptions } from '../../src/http/index.js';
import { InstrumentedOwnerBackend, TestClock } from './support/instrumented-backend.js';
import { simulate } from './support/simulate.js';

interface Data {
  user?: string;
  count?: number;
  a?: string;
}

const opened: MemoryBackend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

function setup(options: SessionOptions = {}, clock?: TestClock) {
  const events: SessionEvent[] = [];
  const memory = new MemoryBackend(clock ? { nowMs: clock.monotonicMs } : {});
  opened.push(memory);
  const backend = new InstrumentedOwnerBackend(memory);
  const engine = new SessionEngine<Data>(backend, { onEvent: (event) => events.push(event), owners: true, ...(clock ? { nowMs: clock.nowMs } : {}), ...options });
  const keyOf = async (handler: Parameters<typeof simulate<Data>>[2], key?: string) => (await simulate(engine, key, handler)).cookie!.value!;
  return { events, backend, engine, keyOf };
}

/** Every event as text, errors included, to look for raw keys in. */
const asText = (events: SessionEvent[]) => JSON.stringify(events, (_name, value: unknown) => (value instanceof Error ? { ...value, name: value.name, message: value.message } : value));

describe('HTTP events (onEvent)', () => {
  it("a session's life: created with its owner, regenerated, destroyed; keys only as digests, store 'http'", async () => {
    const { events, keyOf } = setup();
    const anonymous = await keyOf((s) => s.set('a', 'x'));
    expect(events).toEqual([{ type: 'created', store: 'http', keyDigest: digestKey(anonymous) }]);

    const loggedIn = await keyOf((s) => s.regenerate({ owner: 'ann' }), anonymous);
    const again = await keyOf((s) => s.regenerate(), loggedIn);
    await simulate(setup().engine, undefined); // another engine's listener hears nothing of this one
    await keyOf((s) => s.destroy(), again);
    const owned = await keyOf((s) => s.regenerate({ owner: 'bob' }));

    expect(events).toEqual([
      { type: 'created', store: HTTP_EVENT_STORE, keyDigest: digestKey(anonymous) },
      { type: 'regenerated', store: HTTP_EVENT_STORE, fromDigest: digestKey(anonymous), toDigest: digestKey(loggedIn) },
      { type: 'regenerated', store: HTTP_EVENT_STORE, fromDigest: digestKey(loggedIn), toDigest: digestKey(again) },
      { type: 'destroyed', store: HTTP_EVENT_STORE, keyDigest: digestKey(again) },
      { type: 'created', store: HTTP_EVENT_STORE, keyDigest: digestKey(owned), owner: 'bob' },
    ]);
    const text = asText(events);
    for (const key of [anonymous, loggedIn, again, owned]) expect(text).not.toContain(key);
  });

  it('reads, throttled renewals and unsetting fields of no session report nothing', async () => {
    const { events, keyOf, engine } = setup({ touchAfterSeconds: 0 });
    const key = await keyOf((s) => s.set('a', 'x'));
    events.length = 0;
    await simulate(engine, key);
    await simulate(engine, undefined, (s) => s.unset('a'));
    expect(events).toEqual([]);
  });

  it('update() reports the session it created at once, before the commit', async () => {
    const { events, engine } = setup();
    const context = await engine.load(undefined);
    await context.session.update((d) => ({ ...d, count: 1 }));
    expect(events.map((e) => e.type)).toEqual(['created']);
    await context.commit();
    expect(events.map((e) => e.type)).toEqual(['created']);
  });

  it('conflict-retried for a compare-and-set retry, numbered from the attempt that met the conflict', async () => {
    const { events, engine, keyOf } = setup({ maxUpdateAttempts: 3 });
    const key = await keyOf((s) => s.set('count', 0));
    events.length = 0;
    const slow = await engine.load(`sid=${key}`);
    await simulate(engine, key, (s) => s.set('a', 'elsewhere'));
    expect(await slow.session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }))).toEqual({ count: 1, a: 'elsewhere' });
    expect(events).toEqual([{ type: 'conflict-retried', store: 'http', keyDigest: digestKey(key), attempt: 1 }]);

  });

  it('a SessionConflictError is reported as an error during update', async () => {
    const { events, engine, keyOf } = setup({ maxUpdateAttempts: 1 });
    const key = await keyOf((s) => s.set('count', 0));
    events.length = 0;
    const late = await engine.load(`sid=${key}`);
    await simulate(engine, key, (s) => s.set('count', 5));
    await expect(late.session.update((d) => ({ ...d, count: 99 }))).rejects.toBeInstanceOf(SessionConflictError);
    expect(events).toEqual([{ type: 'error', store: 'http', during: 'update', error: expect.any(SessionConflictError) }]);
  });

  it('store failures during load, commit, update and owner operations are error events, still rejected to the caller', async () => {
    const { events, backend, engine, keyOf } = setup();
    const key = await keyOf((s) => s.regenerate({ owner: 'ann' }));
    events.length = 0;

    backend.failing.add('get');
    await expect(engine.load(`sid=${key}`)).rejects.toBeInstanceOf(BackendError);
    backend.failing.clear();

    const context = await engine.load(`sid=${key}`);
    backend.failing.add('compareAndSet');
    backend.failing.add('clearByOwner');
    backend.failing.add('listByOwner');
    await expect(context.session.update((d) => ({ ...d, count: 1 }))).rejects.toBeInstanceOf(BackendError);
    await expect(context.session.logoutEverywhere()).rejects.toBeInstanceOf(BackendError);
    await expect(context.session.listOwnSessions()).rejects.toBeInstanceOf(BackendError);
    context.session.set('a', 'x');
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);

    expect(events.map((e) => e.type === 'error' && e.during)).toEqual(['load', 'update', 'logoutEverywhere', 'listOwnSessions', 'commit']);
    for (const event of events) expect(event).toMatchObject({ type: 'error', store: 'http', error: { name: 'BackendError', code: 'unavailable' } });
  });

  it("an application's own exception in update(fn) is not a session failure", async () => {
    const { events, engine } = setup();
    const context = await engine.load(undefined);
    await expect(
      context.session.update(() => {
        throw new RangeError('app bug');
      }),
    ).rejects.toBeInstanceOf(RangeError);
    expect(events).toEqual([]);
  });

  it('a regeneration whose commit fails reports nothing: the client keeps its old session', async () => {
    const { events, backend, engine, keyOf } = setup();
    const key = await keyOf((s) => s.set('a', 'x'));
    events.length = 0;
    const context = await engine.load(`sid=${key}`);
    context.session.regenerate();
    backend.failing.add('clear');
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);
    expect(events.map((e) => e.type)).toEqual(['error']);
  });

  it('expired-on-read for a session the store still holds past absoluteLifetimeSeconds (the store reports its own expiries)', async () => {
    const clock = new TestClock();
    const { events, backend, keyOf } = setup({ idleTimeoutSeconds: 1000 }, clock);
    const key = await keyOf((s) => s.set('a', 'x'));
    clock.advance(60);
    const seen: SessionEvent[] = [];
    const strict = new SessionEngine<Data>(backend, { absoluteLifetimeSeconds: 30, nowMs: clock.nowMs, onEvent: (event) => seen.push(event) });
    const { session } = await simulate(strict, key);
    expect(session.isNew).toBe(true);
    expect(seen).toEqual([{ type: 'expired-on-read', store: 'http', keyDigest: digestKey(key) }]);
    expect(events.map((e) => e.type)).toEqual(['created']);
  });

  it('logoutEverywhere reports pruned with the number removed, then destroyed for this session', async () => {
    const { events, engine, keyOf } = setup();
    const keys = [await keyOf((s) => s.regenerate({ owner: 'ann' })), await keyOf((s) => s.regenerate({ owner: 'ann' }))];
    events.length = 0;
    await simulate(engine, keys[0], (s) => s.logoutEverywhere());
    expect(events).toEqual([
      { type: 'pruned', store: 'http', deletedCount: 2, durationMs: expect.any(Number) },
      { type: 'destroyed', store: 'http', keyDigest: digestKey(keys[0]!) },
    ]);
  });

  it('a throwing listener changes nothing; onEvent must be a function', async () => {
    const memory = new MemoryBackend();
    opened.push(memory);
    const engine = new SessionEngine<Data>(memory, {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    const { cookie } = await simulate(engine, undefined, (s) => s.set('a', 'x'));
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(() => new SessionEngine(memory, { onEvent: 'log' as never })).toThrow(TypeError);
  });

  it("one listener on the backend and the engine: the store label tells the layers apart", async () => {
    const events: SessionEvent[] = [];
    const memory = new MemoryBackend({ onEvent: (event) => events.push(event) });
    opened.push(memory);
    const engine = new SessionEngine<Data>(memory, { onEvent: (event) => events.push(event) });
    const { cookie } = await simulate(engine, undefined, (s) => s.set('a', 'x'));
    expect(events.map((e) => [e.type, e.store])).toEqual([
      ['created', 'MemoryBackend'],
      ['created', 'http'],
    ]);
    expect(asText(events)).not.toContain(cookie!.value!);
  });
});

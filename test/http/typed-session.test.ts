import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BackendError, generateKey, MemoryBackend, type Backend, type SessionEvent } from '../../src/index.js';
import { SessionConflictError, SessionDataTooLargeError, SessionEngine, type SessionOptions } from '../../src/http/index.js';
import { InstrumentedBackend, TestClock } from './support/instrumented-backend.js';
import { simulate, storedData } from './support/simulate.js';
import { createdSession, testEngine } from './support/test-engine.js';

interface Data {
  user?: string;
  count?: number;
  a?: string;
  b?: string;
  blob?: string;
  big?: bigint;
  __proto__?: string;
}

const setup = (options: SessionOptions = {}, clock?: TestClock) => testEngine<Data>(options, clock);
const created = createdSession<Data>;

describe('typed sessions: laziness', () => {
  it('a request without a cookie that only reads costs no store call and sets no cookie', async () => {
    const { backend, engine } = setup();
    const { pairs, session } = await simulate(engine, undefined, (s) => s.get('user'));
    expect(pairs).toEqual([['Vary', 'Cookie']]);
    expect(session.isNew).toBe(true);
    expect(backend.calls).toEqual({ get: 0, generate: 0, set: 0, compareAndSet: 0, put: 0, clear: 0 });
  });

  it('a request with a cookie that only reads costs one get and no write', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { user: 'ann' });
    backend.resetCounts();
    const { pairs, session } = await simulate(engine, key, (s) => expect(s.get('user')).toBe('ann'));
    expect(pairs).toEqual([['Vary', 'Cookie']]);
    expect(session.isNew).toBe(false);
    expect(backend.calls.get).toBe(1);
    expect(backend.writes).toBe(0);
  });

  it('unsetting fields without a session creates none', async () => {
    const { backend, engine } = setup();
    const { pairs } = await simulate(engine, undefined, (s) => s.unset('user'));
    expect(pairs).toEqual([['Vary', 'Cookie']]);
    expect(backend.writes).toBe(0);
  });

  it('the first write creates the session: one generate, a cookie with Max-Age = idle timeout', async () => {
    const { backend, engine } = setup({ idleTimeoutSeconds: 3600 });
    const { cookie, session } = await simulate(engine, undefined, (s) => s.set('user', 'ann'));
    expect(backend.calls.generate).toBe(1);
    expect(cookie).toMatchObject({ name: 'sid', maxAge: 3600, path: '/', httpOnly: true, sameSite: 'lax' });
    expect(await storedData(backend, cookie!.value!)).toEqual({ user: 'ann' });
    expect(session.status).toBe('modified');
    expect(session.expiresInSeconds).toBe(3600);
  });

  it('a forged well-formed key is never adopted: the write makes a new key', async () => {
    const { backend, engine } = setup();
    const forged = generateKey();
    const { cookie, session } = await simulate(engine, forged, (s) => s.set('user', 'eve'));
    expect(session.isNew).toBe(true);
    expect(cookie!.value).not.toBe(forged);
    expect(await backend.get(forged)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('property: loading any Cookie header never rejects, and a hostile one is a new session', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { user: 'ann' });
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 60 }).map((v) => `sid=${v}`),
      fc.string({ unit: 'binary', maxLength: 60 }).map((v) => `sid=${key}; sid=${v}`),
      fc.array(fc.constantFrom(`sid=${key}`, 'sid=', ';', '=', ' ', '"', '%', '\u00e9', 'a=b'), { maxLength: 20 }).map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(header, async (cookie) => {
        const context = await engine.load(cookie);
        expect(context.session.data).toEqual(context.session.isNew ? {} : { user: 'ann' });
        expect(await context.commit()).toEqual([['Vary', 'Cookie']]);
      }),
      { numRuns: 500 },
    );
    expect(backend.writes).toBe(1);
  });

  it('a stored value that is not a typed session is no session', async () => {
    const { backend, engine } = setup();
    const key = await backend.generate({ value: 'not json {' });
    const { session } = await simulate(engine, key);
    expect(session.isNew).toBe(true);
    expect(session.data).toEqual({});
  });
});

describe('typed sessions: fields', () => {
  it('set/get/unset/has/data through JSON, undefined unsets, a __proto__ field stays a field', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { a: 'x', b: 'y' });
    const { session } = await simulate(engine, key, (s) => {
      s.set('user', 'ann');
      s.unset('a');
      s.set('b', undefined);
      s.set('__proto__', 'p');
      expect(s.has('a')).toBe(false);
      expect(s.get('user')).toBe('ann');
      expect(Object.getPrototypeOf(s.data)).toBe(Object.prototype);
    });
    expect(session.data).toEqual({ user: 'ann', ['__proto__']: 'p' });
    const stored = await storedData(backend, key);
    expect(Object.keys(stored!).sort()).toEqual(['__proto__', 'user']);
  });

  it('a value JSON cannot hold is a TypeError and changes nothing', async () => {
    const { engine } = setup();
    await simulate(engine, undefined, (s) => {
      expect(() => s.set('big', 1n)).toThrow(TypeError);
      expect(s.status).toBe('unmodified');
    });
  });

  it('parallel requests writing different fields keep both (tracked fields merged with compare-and-set)', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { a: 'old', b: 'old', user: 'ann' });
    const first = await engine.load(`sid=${key}`);
    const second = await engine.load(`sid=${key}`);
    first.session.set('a', 'from first');
    second.session.set('b', 'from second');
    second.session.unset('user');
    await first.commit();
    await second.commit();
    expect(await storedData(backend, key)).toEqual({ a: 'from first', b: 'from second' });
  });

  it('commitSync: done at once when nothing is left to write, with the headers commit() then answers; undefined with nothing done while a write is due or running', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { count: 1 });
    const writesBefore = backend.writes;

    const reader = await engine.load(`sid=${key}`);
    const readHeaders = reader.commitSync();
    expect(readHeaders).toEqual([['Vary', 'Cookie']]);
    expect(await reader.commit()).toBe(readHeaders);
    reader.session.set('a', 'late');
    expect(reader.session.get('a')).toBeUndefined();

    const writer = await engine.load(`sid=${key}`);
    writer.session.set('count', 2);
    expect(writer.commitSync()).toBeUndefined();
    expect(backend.writes).toBe(writesBefore);
    writer.session.set('count', 3);
    const written = await writer.commit();
    expect(written.some(([name]) => name === 'Set-Cookie')).toBe(true);

    const updater = await engine.load(`sid=${key}`);
    const updating = updater.session.update((d) => ({ ...d, count: 4 }));
    expect(updater.commitSync()).toBeUndefined();
    await updating;
    const afterUpdate = updater.commitSync();
    expect(afterUpdate?.some(([name]) => name === 'Set-Cookie')).toBe(true);
    expect(await updater.commit()).toBe(afterUpdate);
    expect(await storedData(backend, key)).toEqual({ count: 4 });
  });

  it('a change after the session was committed is dropped with a write-dropped event, never thrown; a store call after it rejects', async () => {
    const events: SessionEvent[] = [];
    const { engine } = setup({ onEvent: (event) => events.push(event) });
    const context = await engine.load(undefined);
    await context.commit();
    expect(() => context.session.set('a', 'late')).not.toThrow();
    expect(() => context.session.destroy()).not.toThrow();
    expect(context.session.get('a')).toBeUndefined();
    expect(events.filter((e) => e.type === 'write-dropped')).toEqual([
      { type: 'write-dropped', store: 'http', operation: 'set' },
      { type: 'write-dropped', store: 'http', operation: 'destroy' },
    ]);
    await expect(context.session.update((d) => d)).rejects.toThrow(/already saved/);
  });
});

describe('typed sessions: update(fn)', () => {
  it('creates the session when there is none and returns the data written', async () => {
    const { backend, engine } = setup();
    const { cookie, session } = await simulate(engine, undefined, async (s) => {
      s.set('user', 'ann');
      expect(await s.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }))).toEqual({ user: 'ann', count: 1 });
    });
    expect(session.data).toEqual({ user: 'ann', count: 1 });
    expect(await storedData(backend, cookie!.value!)).toEqual({ user: 'ann', count: 1 });
    expect(backend.calls.generate).toBe(1);
  });

  it('100 concurrent increments on one session end at 100', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { user: 'ann' });
    await Promise.all(
      Array.from({ length: 100 }, () => simulate(engine, key, (s) => s.update((d) => ({ ...d, count: (d.count ?? 0) + 1 })))),
    );
    expect(await storedData(backend, key)).toEqual({ user: 'ann', count: 100 });
  });

  it('gives up with a SessionConflictError after maxUpdateAttempts, having written nothing', async () => {
    const { backend, engine } = setup({ maxUpdateAttempts: 1 });
    const key = await created(engine, { count: 1 });
    const late = await engine.load(`sid=${key}`);
    await simulate(engine, key, (s) => s.set('count', 5));
    await expect(late.session.update((d) => ({ ...d, count: 99 }))).rejects.toBeInstanceOf(SessionConflictError);
    expect(await storedData(backend, key)).toEqual({ count: 5 });
  });
});

describe('typed sessions: regenerate and destroy', () => {
  it('regenerate: new key, same data, old key cleared, creation time kept', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { a: 'keep' });
    const before = (await simulate(engine, key)).session.createdAt;
    const { cookie, session } = await simulate(engine, key, (s) => {
      s.regenerate();
      s.set('user', 'ann');
    });
    expect(cookie!.value).not.toBe(key);
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(await storedData(backend, cookie!.value!)).toEqual({ a: 'keep', user: 'ann' });
    expect(session.createdAt).toEqual(before);
  });

  it('destroy: removed from the store and the cookie expires', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { user: 'ann' });
    const { cookie, session } = await simulate(engine, key, (s) => s.destroy());
    expect(session.status).toBe('destroyed');
    expect(cookie).toMatchObject({ name: 'sid', value: '', maxAge: 0 });
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('destroy then set starts a new session holding only the new fields', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { user: 'ann', a: 'x' });
    const { cookie } = await simulate(engine, key, (s) => {
      s.destroy();
      s.set('b', 'fresh');
    });
    expect(cookie!.value).not.toBe(key);
    expect(await storedData(backend, cookie!.value!)).toEqual({ b: 'fresh' });
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });
});

describe('typed sessions: rolling expiry, throttling, absolute lifetime', () => {
  it('touchAfterSeconds: a read inside the window writes nothing; after it, the expiry and cookie are renewed', async () => {
    const clock = new TestClock();
    const { backend, engine } = setup({ idleTimeoutSeconds: 100, touchAfterSeconds: 10 }, clock);
    const key = await created(engine, { user: 'ann' });
    backend.resetCounts();

    clock.advance(9);
    const inside = await simulate(engine, key);
    expect(inside.cookie).toBeUndefined();
    expect(backend.writes).toBe(0);
    expect(await backend.get(key)).toMatchObject({ ok: true, period: 91 });

    clock.advance(2);
    const after = await simulate(engine, key);
    expect(after.cookie).toMatchObject({ value: key, maxAge: 100 });
    expect(backend.calls.compareAndSet).toBe(1);
    expect(await backend.get(key)).toMatchObject({ ok: true, period: 100 });
  });

  it('an active session still ends at absoluteLifetimeSeconds', async () => {
    const clock = new TestClock();
    const { backend, engine } = setup({ idleTimeoutSeconds: 100, touchAfterSeconds: 0, absoluteLifetimeSeconds: 30 }, clock);
    const { cookie } = await simulate(engine, undefined, (s) => s.set('user', 'ann'));
    expect(cookie!.maxAge).toBe(30);
    const key = cookie!.value!;

    clock.advance(20);
    const active = await simulate(engine, key, (s) => s.update((d) => ({ ...d, count: 1 })));
    expect(active.cookie).toMatchObject({ value: key, maxAge: 10 });

    clock.advance(11);
    const ended = await simulate(engine, key, (s) => expect(s.get('user')).toBeUndefined());
    expect(ended.session.isNew).toBe(true);
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('a session older than a newly configured lifetime is cleared on its next request', async () => {
    const clock = new TestClock();
    const { backend, engine } = setup({ idleTimeoutSeconds: 1000 }, clock);
    const key = await created(engine, { user: 'ann' });
    clock.advance(60);
    const strict = new SessionEngine<Data>(backend, { absoluteLifetimeSeconds: 30, nowMs: clock.nowMs });
    const { cookie, session } = await simulate(strict, key);
    expect(session.isNew).toBe(true);
    expect(cookie).toMatchObject({ value: '', maxAge: 0 });
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });
});

describe('typed sessions: limits and failures', () => {
  it('data over maxDataBytes is a SessionDataTooLargeError at set(), before any write', async () => {
    const { backend, engine } = setup({ maxDataBytes: 200 });
    const { pairs } = await simulate(engine, undefined, (s) => {
      expect(() => s.set('blob', 'x'.repeat(300))).toThrow(SessionDataTooLargeError);
      expect(s.get('blob')).toBeUndefined();
    });
    expect(pairs).toEqual([['Vary', 'Cookie']]);
    expect(backend.writes).toBe(0);
  });

  it("the limit defaults to the backend's maxValueBytes, and update() checks it before writing", async () => {
    const memory = new MemoryBackend({ maxValueBytes: 256 });
    onTestFinished(() => memory.close());
    const backend = new InstrumentedBackend(memory);
    const engine = new SessionEngine<Data>(backend);
    expect(engine.options.maxDataBytes).toBe(256);
    const key = await created(engine, { a: 'x' });
    backend.resetCounts();
    const context = await engine.load(`sid=${key}`);
    await expect(context.session.update((d) => ({ ...d, blob: '\u00e9'.repeat(200) }))).rejects.toBeInstanceOf(SessionDataTooLargeError);
    expect(backend.writes).toBe(0);
    expect(() => new SessionEngine(backend, { maxDataBytes: 1000 })).toThrow(TypeError);
  });

  it('a store failure at commit rejects and leaves the stored session as it was', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { a: 'before' });
    const context = await engine.load(`sid=${key}`);
    context.session.set('a', 'after');
    backend.failing.add('compareAndSet');
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);
    backend.failing.clear();
    expect(await storedData(backend, key)).toEqual({ a: 'before' });
  });

  it('regenerate whose old key cannot be cleared rejects, keeps the old session and drops the new one', async () => {
    const { memory, backend, engine } = setup();
    const key = await created(engine, { user: 'ann' });
    const context = await engine.load(`sid=${key}`);
    context.session.regenerate();
    let clears = 0;
    const clear = backend.clear.bind(backend);
    backend.clear = async (k: string) => {
      clears += 1;
      if (clears === 1) throw new BackendError('unavailable', 'test outage: clear');
      return clear(k);
    };
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);
    expect(await storedData(backend, key)).toEqual({ user: 'ann' });
    expect(memory.size).toBe(1);
  });

  it('bad setup is a TypeError: touchAfterSeconds >= idle timeout, bad cookie options', () => {
    const memory = new MemoryBackend();
    onTestFinished(() => memory.close());
    expect(() => new SessionEngine(memory, { idleTimeoutSeconds: 60, touchAfterSeconds: 60 })).toThrow(TypeError);
    expect(() => new SessionEngine(memory, { cookieName: '__Host-sid', cookie: { domain: 'example.com' } })).toThrow(TypeError);
    expect(() => new SessionEngine(memory, { absoluteLifetimeSeconds: 0 })).toThrow(TypeError);
    expect(() => new SessionEngine(memory, { maxUpdateAttempts: 0 })).toThrow(TypeError);
  });
});

describe('typed sessions: freshness', () => {
  it('authenticatedAt shows a pending login at once; regenerate({ keepData: false }) without owner forgets it; destroy() too', async () => {
    const clock = new TestClock();
    const { engine } = setup({ owners: true }, clock);
    const loginAtMs = clock.wallMs;
    const { cookie } = await simulate(engine, undefined, (s) => {
      expect(s.authenticatedAt).toBeUndefined();
      s.regenerate({ owner: 'ann' });
      expect(s.authenticatedAt).toEqual(new Date(loginAtMs));
      // A regenerate() without owner composed with the pending login keeps it.
      s.regenerate();
      expect(s.isFresh(0)).toBe(true);
    });
    clock.advance(60);
    const { cookie: restarted } = await simulate(engine, cookie!.value!, (s) => {
      expect(s.isFresh(59)).toBe(false);
      expect(s.isFresh(60)).toBe(true);
      s.regenerate({ keepData: false });
      expect(s.authenticatedAt).toBeUndefined();
      s.set('user', 'x');
    });
    await simulate(engine, restarted!.value!, (s) => {
      expect(s.authenticatedAt).toBeUndefined();
      expect(s.isFresh(3600)).toBe(false);
    });
    await simulate(engine, cookie!.value!, (s) => expect(s.authenticatedAt).toBeUndefined());
    const { cookie: other } = await simulate(engine, undefined, (s) => s.regenerate({ owner: 'bob' }));
    await simulate(engine, other!.value!, (s) => {
      s.destroy();
      expect(s.authenticatedAt).toBeUndefined();
    });
  });

  it('isFresh takes a whole number of seconds from 0, else a TypeError', async () => {
    const { engine } = setup();
    await simulate(engine, undefined, (s) => {
      for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '60' as unknown as number]) expect(() => s.isFresh(bad)).toThrow(TypeError);
      expect(s.isFresh(0)).toBe(false);
    });
  });
});

describe('typed sessions: flash', () => {
  it('a bad type or message is a TypeError that leaves the messages as they were', async () => {
    const { backend, engine } = setup();
    const { cookie } = await simulate(engine, undefined, (s) => {
      expect(s.flash('info', 'a')).toBe(1);
      for (const type of ['', 1, undefined]) expect(() => s.flash(type as string, 'x')).toThrow(TypeError);
      expect(() => s.flash('info', undefined)).toThrow(TypeError);
      expect(() => s.flash('info', 10n)).toThrow(TypeError);
      expect(() => s.takeFlash('')).toThrow(TypeError);
    });
    expect(await storedData(backend, cookie!.value!)).toEqual({ flash: { info: ['a'] } });
  });

  it('a flash field in another shape holds no messages and never throws; a type named __proto__ is a type', async () => {
    const { engine } = setup();
    const key = await created(engine, { flash: 'not messages' } as Partial<Data>);
    await simulate(engine, key, (s) => {
      expect(s.takeFlash('info')).toEqual([]);
      expect(s.flash('__proto__', 'p')).toBe(1);
      expect(s.flash('__proto__', 'q')).toBe(2);
    });
    await simulate(engine, key, (s) => {
      const all = s.takeFlash();
      expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
      expect(Object.hasOwn(all, '__proto__')).toBe(true);
      expect(all['__proto__']).toEqual(['p', 'q']);
    });
  });

  it('after the response was saved, flash and takeFlash change nothing and report so', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { a: 'x' });
    await simulate(engine, key, (s) => s.flash('info', 'kept'));
    const context = await engine.load(`sid=${key}`);
    await context.commit();
    expect(context.session.flash('info', 'late')).toBe(0);
    expect(context.session.takeFlash('info')).toEqual([]);
    expect(context.session.takeFlash()).toEqual({});
    expect(await storedData(backend, key)).toEqual({ a: 'x', flash: { info: ['kept'] } });
  });
});

import { describe, expect, it } from 'vitest';
import { BackendError } from '../../src/index.js';
import type { SessionOptions } from '../../src/http/index.js';
import { TestClock } from './support/instrumented-backend.js';
import { simulate, storedData } from './support/simulate.js';
import { createdSession, testEngine } from './support/test-engine.js';

interface Data {
  user?: string;
  cart?: string;
  a?: string;
}

const setup = (options: SessionOptions = {}, clock?: TestClock) => testEngine<Data>(options, clock);
const created = createdSession<Data>;

describe('regenerate({ keepData: false }): express-session regenerate semantics', () => {
  it('the new key starts empty: old data and changes made before the call are gone, later ones kept; the old key is removed', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { cart: 'three books', a: 'x' });
    const { cookie, session } = await simulate(engine, key, (s) => {
      s.set('a', 'before');
      s.regenerate({ keepData: false });
      expect(s.data).toEqual({});
      s.set('user', 'ann');
    });
    expect(cookie!.value).not.toBe(key);
    expect(await storedData(backend, cookie!.value!)).toEqual({ user: 'ann' });
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(session.status).toBe('modified');
  });

  it('with no field written afterwards it still moves to a new, empty key', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { cart: 'x' });
    const { cookie } = await simulate(engine, key, (s) => s.regenerate({ keepData: false }));
    expect(cookie!.value).not.toBe(key);
    expect(await storedData(backend, cookie!.value!)).toEqual({});
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('the creation time starts again (the absolute lifetime restarts)', async () => {
    const clock = new TestClock();
    const { engine } = setup({ absoluteLifetimeSeconds: 100, idleTimeoutSeconds: 1000 }, clock);
    const key = await created(engine, { cart: 'x' });
    clock.advance(60);
    const kept = await simulate(engine, key, (s) => s.regenerate());
    expect(kept.cookie!.maxAge).toBe(40);
    const fresh = await simulate(engine, kept.cookie!.value!, (s) => s.regenerate({ keepData: false }));
    expect(fresh.cookie!.maxAge).toBe(100);
    expect(fresh.session.createdAt!.getTime()).toBe(clock.nowMs());
  });

  it('keepData: true (the default) keeps the data, as before', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { cart: 'x' });
    const { cookie } = await simulate(engine, key, (s) => s.regenerate({ keepData: true }));
    expect(await storedData(backend, cookie!.value!)).toEqual({ cart: 'x' });
  });

  it('without a session it creates nothing unless a field is written', async () => {
    const { backend, engine } = setup();
    const { cookie } = await simulate(engine, undefined, (s) => {
      s.set('a', 'dropped');
      s.regenerate({ keepData: false });
    });
    expect(cookie).toBeUndefined();
    expect(backend.writes).toBe(0);
  });

  it('the owner is not kept unless given again', async () => {
    const { engine } = setup({ owners: true });
    const { cookie } = await simulate(engine, undefined, (s) => s.regenerate({ owner: 'ann' }));
    const anonymous = await simulate(engine, cookie!.value!, (s) => s.regenerate({ keepData: false }));
    expect(anonymous.session.owner).toBeUndefined();
    expect((await simulate(engine, anonymous.cookie!.value!)).session.owner).toBeUndefined();
    const bob = await simulate(engine, anonymous.cookie!.value!, (s) => s.regenerate({ keepData: false, owner: 'bob' }));
    expect((await simulate(engine, bob.cookie!.value!)).session.owner).toBe('bob');
  });

  it('a non-boolean keepData is a TypeError', async () => {
    const { engine } = setup();
    const context = await engine.load(undefined);
    expect(() => context.session.regenerate({ keepData: 'no' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('a failed regeneration loses nothing', () => {
  it('the new key cannot be created: the old key keeps its session and the commit rejects', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { cart: 'x' });
    const context = await engine.load(`sid=${key}`);
    context.session.regenerate();
    backend.failing.add('generate');
    await expect(context.commit()).rejects.toMatchObject({ name: 'BackendError' });
    backend.failing.clear();
    expect(await storedData(backend, key)).toEqual({ cart: 'x' });
    expect((await simulate(engine, key)).session.get('cart')).toBe('x');
  });

  it('update() moved the session, then the commit failed: the old key is put back for the client that keeps it', async () => {
    const { backend, engine } = setup();
    const key = await created(engine, { cart: 'x' });
    const context = await engine.load(`sid=${key}`);
    context.session.regenerate();
    await context.session.update((data) => ({ ...data, a: 'moved' }));
    context.session.set('user', 'ann');
    // Only the commit's write fails (an outage that has passed when the restore runs).
    const compareAndSet = backend.compareAndSet.bind(backend);
    let calls = 0;
    backend.compareAndSet = async (...args) => {
      if (++calls === 1) throw new BackendError('unavailable', 'test outage: compareAndSet');
      return compareAndSet(...args);
    };
    await expect(context.commit()).rejects.toBeInstanceOf(BackendError);
    expect(await storedData(backend, key)).toEqual({ cart: 'x' });
  });
});

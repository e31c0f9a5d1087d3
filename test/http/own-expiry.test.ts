import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/index.js';
import { digestKey } from '../../src/core/keys.js';
import { SessionEngine, type SessionOptions } from '../../src/http/index.js';
import { TestClock } from './support/instrumented-backend.js';
import { simulate, storedData } from './support/simulate.js';

interface Data {
  a?: string;
}

const opened: MemoryBackend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

function setup(options: SessionOptions = {}) {
  const clock = new TestClock();
  const backend = new MemoryBackend({ nowMs: clock.monotonicMs });
  opened.push(backend);
  return { backend, clock, engine: new SessionEngine<Data>(backend, { nowMs: clock.nowMs, idleTimeoutSeconds: 3600, ...options }) };
}

describe('setExpirySeconds, keyDigest and reload (what express-session style sessions build on)', () => {
  it("setExpirySeconds gives the session its own period: the cookie's Max-Age, the stored expiry, and later writes keep it", async () => {
    const { backend, engine } = setup();
    const first = await simulate(engine, undefined, (s) => s.set('a', 'x'));
    const key = first.cookie!.value!;
    expect(first.cookie!.maxAge).toBe(3600);
    const remembered = await simulate(engine, key, (s) => {
      s.setExpirySeconds(30 * 86400);
      expect(s.ownExpirySeconds).toBe(30 * 86400);
    });
    expect(remembered.cookie!.maxAge).toBe(30 * 86400);
    expect(await backend.get(key)).toMatchObject({ ok: true, period: 30 * 86400 });
    const later = await simulate(engine, key, (s) => s.set('a', 'y'));
    expect(later.cookie!.maxAge).toBe(30 * 86400);
    expect(later.session.ownExpirySeconds).toBe(30 * 86400);
    const reset = await simulate(engine, key, (s) => s.setExpirySeconds(undefined));
    expect(reset.cookie!.maxAge).toBe(3600);
    expect(await storedData(backend, key)).toEqual({ a: 'y' });
  });

  it('a session with its own period gets a persistent cookie even with discard: true; bad values are TypeErrors', async () => {
    const { engine } = setup({ cookie: { discard: true } });
    const plain = await simulate(engine, undefined, (s) => s.set('a', 'x'));
    expect(plain.cookie!.maxAge).toBeUndefined();
    const own = await simulate(engine, plain.cookie!.value!, (s) => {
      for (const bad of [0, -1, 1.5, Number.NaN, '60' as unknown as number]) expect(() => s.setExpirySeconds(bad)).toThrow(TypeError);
      s.setExpirySeconds(600);
    });
    expect(own.cookie!.maxAge).toBe(600);
  });

  it('a regeneration that keeps the data keeps the own period; keepData: false and destroy() drop it', async () => {
    const { backend, engine } = setup();
    const key = (await simulate(engine, undefined, (s) => s.setExpirySeconds(7200))).cookie!.value!;
    const moved = await simulate(engine, key, (s) => {
      s.regenerate();
      expect(s.ownExpirySeconds).toBe(7200);
    });
    expect(moved.cookie!.maxAge).toBe(7200);
    expect(await backend.get(moved.cookie!.value!)).toMatchObject({ ok: true, period: 7200 });
    const fresh = await simulate(engine, moved.cookie!.value!, (s) => {
      s.regenerate({ keepData: false });
      expect(s.ownExpirySeconds).toBeUndefined();
    });
    expect(fresh.cookie!.maxAge).toBe(3600);
    const again = (await simulate(engine, undefined, (s) => s.setExpirySeconds(7200))).cookie!.value!;
    const destroyed = await simulate(engine, again, (s) => {
      s.destroy();
      s.set('a', 'new');
    });
    expect(destroyed.cookie!.maxAge).toBe(3600);
  });

  it('setExpirySeconds alone creates a session; after update() saved it the commit does not write again', async () => {
    const { backend, engine } = setup();
    const created = await simulate(engine, undefined, (s) => s.setExpirySeconds(120));
    expect(created.cookie!.maxAge).toBe(120);
    const key = created.cookie!.value!;
    const context = await engine.load(`sid=${key}`);
    context.session.setExpirySeconds(240);
    const writes: string[] = [];
    const compareAndSet = backend.compareAndSet.bind(backend);
    backend.compareAndSet = (...args) => (writes.push(args[0]), compareAndSet(...args));
    await context.session.update((data) => ({ ...data, a: 'u' }));
    await context.commit();
    expect(writes).toEqual([key]);
    expect(await backend.get(key)).toMatchObject({ ok: true, period: 240 });
  });

  it('keyDigest names the stored session by its digest, undefined before the first save and after destroy', async () => {
    const { engine } = setup();
    const fresh = await simulate(engine, undefined, (s) => {
      expect(s.keyDigest).toBeUndefined();
      s.set('a', 'x');
    });
    const key = fresh.cookie!.value!;
    await simulate(engine, key, (s) => {
      expect(s.keyDigest).toBe(digestKey(key));
      s.destroy();
      expect(s.keyDigest).toBeUndefined();
    });
  });

  it("reload drops this request's unsaved changes and reads what another request saved meanwhile", async () => {
    const { engine } = setup();
    const key = (await simulate(engine, undefined, (s) => s.set('a', 'first'))).cookie!.value!;
    const context = await engine.load(`sid=${key}`);
    context.session.set('a', 'unsaved');
    await simulate(engine, key, (s) => s.set('a', 'parallel'));
    await context.session.reload();
    expect(context.session.get('a')).toBe('parallel');
    await context.commit();
  });
});

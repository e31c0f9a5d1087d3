import { afterEach, describe, expect, it } from 'vitest';
import { generateKey, MemoryBackend } from '../../src/index.js';
import { clear, generate, ofHeader, ofHeaderOrCreate, ofKey, SessionManager, set, toCookieHeaders } from '../../src/ocaml-session/index.js';

const backends: MemoryBackend[] = [];
// A clock that stands still: the periods these tests read back are exact however slow the machine.
const memory = () => {
  const backend = new MemoryBackend({ nowMs: () => 1_000_000 });
  backends.push(backend);
  return backend;
};
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

describe("ocaml-session's Session_cohttp functions", () => {
  it('generate makes a modified session whose cookie carries the key and the period', async () => {
    const backend = memory();
    const session = await generate(backend, 'hello', { expiry: 120 });
    expect(session).toEqual({ key: expect.stringMatching(/^[A-Za-z0-9_-]{40}$/), value: 'hello', expiryPeriod: 120, modified: true });
    expect(await backend.get(session.key)).toMatchObject({ ok: true, value: 'hello' });
    expect(toCookieHeaders('sid', session)[0]).toEqual(['Set-Cookie', `sid=${session.key}; Max-Age=120; Path=/; HttpOnly; SameSite=Lax`]);
  });

  it('ofKey: an unmodified session with the seconds left, or NotFound / NotSet', async () => {
    const backend = memory();
    const key = await backend.generate({ value: 'v', expiry: 50 });
    expect(await ofKey(backend, key)).toEqual({ ok: true, session: { key, value: 'v', expiryPeriod: 50, modified: false } });
    expect(await ofKey(backend, generateKey())).toEqual({ ok: false, error: 'NotFound' });
    expect(await ofKey(backend, await backend.generate())).toEqual({ ok: false, error: 'NotSet' });
  });

  it('ofHeader: no cookie is no session; a hostile or forged cookie is NotFound', async () => {
    const backend = memory();
    const key = await backend.generate({ value: 'v' });
    expect(await ofHeader(backend, 'sid', undefined)).toEqual({ ok: true, session: undefined });
    expect(await ofHeader(backend, 'sid', 'other=1')).toEqual({ ok: true, session: undefined });
    expect(await ofHeader(backend, 'sid', `a=1; sid=${key}`)).toMatchObject({ ok: true, session: { key, value: 'v' } });
    expect(await ofHeader(backend, 'sid', `sid=${key}; sid=${generateKey()}`)).toEqual({ ok: false, error: 'NotFound' });
    expect(await ofHeader(backend, 'sid', `sid=${generateKey()}`)).toEqual({ ok: false, error: 'NotFound' });
    expect(await ofHeader(backend, 'sid', 'sid=\u00ff\u00fe')).toEqual({ ok: false, error: 'NotFound' });
  });

  it('ofHeaderOrCreate: the existing session, else a new one; a forged key is never adopted', async () => {
    const backend = memory();
    const key = await backend.generate({ value: 'old' });
    expect((await ofHeaderOrCreate(backend, 'sid', 'new', `sid=${key}`)).key).toBe(key);
    const forged = generateKey();
    const created = await ofHeaderOrCreate(backend, 'sid', 'new', `sid=${forged}`, { expiry: 30 });
    expect(created.key).not.toBe(forged);
    expect(created).toMatchObject({ value: 'new', expiryPeriod: 30, modified: true });
    expect(await backend.get(forged)).toEqual({ ok: false, error: 'NotFound' });
  });

  it('set: a new value, or only the expiry renewed when no value is given', async () => {
    const backend = memory();
    const found = await ofKey(backend, await backend.generate({ value: 'a', expiry: 10 }));
    if (!found.ok) throw new Error('setup');
    const { session } = found;
    await set(backend, session, { expiry: 500 });
    expect(session).toMatchObject({ value: 'a', expiryPeriod: 500, modified: true });
    expect(await backend.get(session.key)).toMatchObject({ ok: true, value: 'a', period: 500 });
    await set(backend, session, { value: 'b' });
    expect(session).toMatchObject({ value: 'b', expiryPeriod: backend.defaultPeriod() });
  });

  it('clear: removed from the store, and the cookie headers expire the cookie', async () => {
    const backend = memory();
    const session = await generate(backend, 'v');
    await clear(backend, session);
    expect(await backend.get(session.key)).toEqual({ ok: false, error: 'NotFound' });
    expect(toCookieHeaders('sid', session)[0]).toEqual(['Set-Cookie', 'sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
  });
});

describe("SessionManager (ocaml-session's Session_webmachine manager)", () => {
  it('fetches the session once and caches it', async () => {
    const backend = memory();
    const key = await backend.generate({ value: 'v' });
    let gets = 0;
    const counting = Object.assign(Object.create(backend) as MemoryBackend, {
      get: (k: string) => {
        gets += 1;
        return backend.get(k);
      },
    });
    const manager = new SessionManager(counting, `sid=${key}`);
    const [a, b] = await Promise.all([manager.session(), manager.session()]);
    expect(a).toBe(b);
    expect(await manager.session()).toBe(a);
    expect(gets).toBe(1);
    expect(manager.headers()).toEqual([['Vary', 'Cookie']]);
    expect(manager.variances()).toEqual(['Cookie']);
  });

  it('sessionOrCreate and set create a session when there is none and send its cookie', async () => {
    const backend = memory();
    const manager = new SessionManager(backend, undefined, { cookieName: 'app' });
    expect(await manager.session()).toBeUndefined();
    const created = await manager.sessionOrCreate('first', { expiry: 60 });
    expect(await manager.sessionOrCreate('ignored')).toBe(created);
    await manager.set('second', { expiry: 90 });
    expect(await backend.get(created.key)).toMatchObject({ ok: true, value: 'second', period: 90 });
    expect(manager.headers({ secure: true })[0]).toEqual(['Set-Cookie', `app=${created.key}; Max-Age=90; Path=/; HttpOnly; Secure; SameSite=Lax`]);
  });

  it('clear removes the session and expires the cookie; the session is then gone', async () => {
    const backend = memory();
    const key = await backend.generate({ value: 'v' });
    const manager = new SessionManager(backend, `sid=${key}`);
    await manager.clear();
    expect(await manager.session()).toBeUndefined();
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(manager.headers()[0]).toEqual(['Set-Cookie', 'sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('an invalid cookie name or cookie option is a TypeError', async () => {
    const backend = memory();
    expect(() => new SessionManager(backend, undefined, { cookieName: 'bad name' })).toThrow(TypeError);
    expect(() => new SessionManager(backend, undefined).headers({ path: 'relative' })).toThrow(TypeError);
  });
});

import { createHmac } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { SessionkitStore, storeKeyOfSessionId } from '../../src/adapters/express-session/index.js';
import type { Backend } from '../../src/core/contract.js';
import { isBackendError } from '../../src/core/errors.js';
import { digestKey } from '../../src/core/keys.js';
import { EXPRESS_VERSIONS } from '../adapters/support/express-app.js';

type StoreFactory = () => Promise<Backend>;
const SID = 'Abcdefghijklmnopqrstuvwxyz012345'; // express-session's default: 24 random bytes, 32 base64url characters

/** A session as express-session passes it to `set`. */
function sessionData(extra: Record<string, unknown>, maxAgeMs: number | null = 3_600_000): session.SessionData {
  const expires = maxAgeMs === null ? null : new Date(Date.now() + maxAgeMs).toISOString();
  return { cookie: { originalMaxAge: maxAgeMs, expires, httpOnly: true, path: '/' }, ...extra } as unknown as session.SessionData;
}

/** Calls a callback-style store method and resolves to its (error, result) pair, checking the callback runs exactly once and later. */
function called<T>(start: (callback: (error: unknown, result?: T) => void) => unknown): Promise<{ error: unknown; result: T | undefined }> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    let synchronous = true;
    start((error, result) => {
      calls += 1;
      if (synchronous) reject(new Error('the callback ran synchronously'));
      if (calls > 1) reject(new Error('the callback ran twice'));
      resolve({ error, result });
    });
    synchronous = false;
  });
}

function app(store: SessionkitStore, cookie: session.CookieOptions = { maxAge: 3_600_000 }, expressModule: typeof express = express) {
  const created = expressModule();
  created.use(session({ store, secret: 'test secret', resave: false, saveUninitialized: false, cookie }));
  created.get('/count', (req, res) => {
    const data = req.session as unknown as { count?: number };
    data.count = (data.count ?? 0) + 1;
    res.json({ count: data.count });
  });
  created.get('/read', (req, res) => res.json({ count: (req.session as unknown as { count?: number }).count ?? null, id: req.sessionID }));
  created.get('/regenerate', (req, res, next) => req.session.regenerate((error) => (error ? next(error) : res.json({ id: req.sessionID }))));
  created.get('/destroy', (req, res, next) => req.session.destroy((error) => (error ? next(error) : res.send('bye'))));
  return created;
}
const cookieOf = (reply: request.Response) => ([] as string[]).concat(reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))?.split(';')[0];

/** express-session's documented Store contract, and express-session itself, over `makeBackend()`. */
export function describeStore(name: string, makeBackend: StoreFactory, makeGoneBackend?: () => Promise<Backend>): void {
  describe(`SessionkitStore on ${name}`, () => {
    it('get of a missing or malformed id calls back (null, null), later', async () => {
      const store = new SessionkitStore(await makeBackend());
      expect(await called((cb) => store.get(SID, cb))).toEqual({ error: null, result: null });
      expect(await called((cb) => store.get('not a key!', cb))).toEqual({ error: null, result: null });
    });

    it('set then get gives the session back as JSON, cookie included; set replaces', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      const stored = sessionData({ user: 'ada', cart: [1, 2] });
      expect(await called((cb) => store.set(SID, stored, cb))).toEqual({ error: null, result: undefined });
      expect((await called((cb) => store.get(SID, cb))).result).toEqual(JSON.parse(JSON.stringify(stored)));
      await store.set(SID, sessionData({ user: 'grace' }));
      expect(await store.get(SID)).toMatchObject({ user: 'grace' });
      expect(await store.get(SID)).not.toHaveProperty('cart');
    });

    it('expiry follows cookie.expires, else the ttl option; an expires already past removes the session', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend, { ttl: 120 });
      await store.set(SID, sessionData({ a: 1 }, 3_600_000));
      const withExpires = await backend.get(SID);
      expect(withExpires.ok && withExpires.period).toBeGreaterThan(3500);
      expect(withExpires.ok && withExpires.period).toBeLessThanOrEqual(3600);
      await store.set(SID, sessionData({ a: 2 }, null));
      const withTtl = await backend.get(SID);
      expect(withTtl.ok && withTtl.period).toBeLessThanOrEqual(120);
      expect(withTtl.ok && withTtl.period).toBeGreaterThan(60);
      await store.set(SID, sessionData({ a: 3 }, -1000));
      expect(await store.get(SID)).toBeNull();
      const byFunction = new SessionkitStore(backend, { ttl: (s) => ((s as unknown as { long?: boolean }).long ? 9000 : 30) });
      await byFunction.set(SID, sessionData({ long: true }, null));
      const long = await backend.get(SID);
      expect(long.ok && long.period).toBeGreaterThan(8900);
    });

    it('touch restarts the expiry of a live session and stores its cookie, and never revives a missing one', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      await store.set(SID, sessionData({ n: 1 }, 60_000));
      const longer = sessionData({ n: 1 }, 7_200_000);
      expect(await called((cb) => store.touch(SID, longer, cb))).toEqual({ error: null, result: undefined });
      const touched = await backend.get(SID);
      expect(touched.ok && touched.period).toBeGreaterThan(7000);
      expect(await store.get(SID)).toMatchObject({ n: 1, cookie: { expires: (longer.cookie as unknown as { expires: string }).expires } });
      const other = 'Zbcdefghijklmnopqrstuvwxyz012345';
      await store.touch(other, longer);
      expect(await store.get(other)).toBeNull();
      const untouched = new SessionkitStore(backend, { disableTouch: true });
      await untouched.touch(SID, sessionData({ n: 1 }, 9_000_000));
      const after = await backend.get(SID);
      expect(after.ok && after.period).toBeLessThan(7300);
    });

    it('destroy removes the session and is idempotent', async () => {
      const store = new SessionkitStore(await makeBackend());
      await store.set(SID, sessionData({ a: 1 }));
      expect(await called((cb) => store.destroy(SID, cb))).toEqual({ error: null, result: undefined });
      expect(await store.get(SID)).toBeNull();
      expect(await called((cb) => store.destroy(SID, cb))).toEqual({ error: null, result: undefined });
    });

    it('a stored value that is not a JSON object reads as no session', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      for (const value of ['[1,2]', '"text"', '{not json', 'null']) {
        await backend.put(SID, value, { expiry: 60 });
        expect(await store.get(SID)).toBeNull();
      }
    });

    it('length counts the live sessions, all gives them keyed by stored id, clear empties the store (callbacks and promises)', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      expect(await called((cb) => store.length(cb))).toEqual({ error: null, result: 0 });
      expect(await called((cb) => store.all(cb))).toEqual({ error: null, result: {} });
      const other = 'Zyxwvutsrqponmlkjihgfedcba543210';
      await store.set(SID, sessionData({ user: 'ada' }));
      await store.set(other, sessionData({ user: 'bob' }));
      await store.set('Expiredexpiredexpiredexpired0000', sessionData({ user: 'gone' }, -1000));
      expect(await called((cb) => store.length(cb))).toEqual({ error: null, result: 2 });
      const hashed = (backend as { hashKeys?: boolean }).hashKeys === true;
      const idOf = (sid: string) => (hashed ? digestKey(sid) : sid);
      const { error, result: all } = await called<Record<string, session.SessionData>>((cb) => store.all(cb));
      expect(error).toBeNull();
      expect(Object.keys(all!).sort()).toEqual([idOf(SID), idOf(other)].sort());
      expect(all![idOf(SID)]).toMatchObject({ user: 'ada', cookie: { path: '/' } });
      expect(all![idOf(other)]).toMatchObject({ user: 'bob' });
      expect(await called((cb) => store.clear(cb))).toEqual({ error: null, result: undefined });
      expect(await store.length()).toBe(0);
      expect(await store.get(SID)).toBeNull();
      expect(await store.all()).toEqual({});
    });

    it('ids gives the ids where the backend keeps them as they are, else calls back with a TypeError', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      await store.set(SID, sessionData({ n: 1 }));
      const { error, result } = await called<string[]>((cb) => store.ids(cb));
      if ((backend as { hashKeys?: boolean }).hashKeys === true) {
        expect(error).toBeInstanceOf(TypeError);
        expect(String(error)).toMatch(/hashKeys: false/);
      } else {
        expect(error).toBeNull();
        expect(result).toEqual([SID]);
      }
    });

    for (const { name: expressName, express: expressModule } of EXPRESS_VERSIONS) {
      it(`express-session on ${expressName} with this store: length, all and clear see what requests did; a cleared session starts over`, async () => {
        const backend = await makeBackend();
        const store = new SessionkitStore(backend);
        const server = app(store, undefined, expressModule);
        const cookie = cookieOf(await request(server).get('/count'))!;
        await request(server).get('/count').set('Cookie', cookie);
        await request(server).get('/count');
        expect(await store.length()).toBe(2);
        const counts = Object.values(await store.all()).map((stored) => (stored as unknown as { count: number }).count);
        expect(counts.sort()).toEqual([1, 2]);
        await store.clear();
        expect(await store.length()).toBe(0);
        expect((await request(server).get('/read').set('Cookie', cookie)).body).toMatchObject({ count: null });
      });

      it(`express-session on ${expressName} with this store: a counter across requests, regenerate and destroy`, async () => {
        const backend = await makeBackend();
        const server = app(new SessionkitStore(backend), undefined, expressModule);
        const first = await request(server).get('/count');
        const cookie = cookieOf(first)!;
        expect(cookie).toMatch(/^connect\.sid=s%3A/);
        expect((await request(server).get('/count').set('Cookie', cookie)).body).toEqual({ count: 2 });
        const read = await request(server).get('/read').set('Cookie', cookie);
        expect(read.body.count).toBe(2);
        // The id is hashed at rest: the store holds the session under the digest, reachable only with the id.
        expect((await backend.get(read.body.id)).ok).toBe(true);
        const regenerated = await request(server).get('/regenerate').set('Cookie', cookie);
        expect(regenerated.body.id).not.toBe(read.body.id);
        expect((await backend.get(read.body.id)).ok).toBe(false);
        const again = await request(server).get('/count').set('Cookie', cookie);
        expect(again.body).toEqual({ count: 1 });
        const cookie2 = cookieOf(again)!;
        await request(server).get('/destroy').set('Cookie', cookie2);
        expect((await request(server).get('/read').set('Cookie', cookie2)).body.count).toBeNull();
      });
    }

    it('expiry is to the millisecond: a session past its cookie.expires reads as absent and is removed, before the backend\'s whole second ends', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      // 300 ms of life, checked at 600 ms: past the cookie's expiry, inside the backend's whole second, with room for a loaded machine.
      await store.set(SID, sessionData({ user: 'ada' }, 300));
      expect(await store.get(SID)).toMatchObject({ user: 'ada' });
      expect(await store.length()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await store.length()).toBe(0);
      expect(await store.all()).toEqual({});
      await store.touch(SID, sessionData({ user: 'ada' }, 3_600_000));
      expect(await store.get(SID)).toBeNull();
      expect((await backend.get(SID)).ok).toBe(false);
    });

    it('express-session with cookie.maxAge: 5 ms: 20 ms later the cookie starts a new session (as with MemoryStore)', async () => {
      const server = app(new SessionkitStore(await makeBackend()), { maxAge: 5 });
      const first = await request(server).get('/count');
      expect(first.body).toEqual({ count: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await request(server).get('/count').set('Cookie', cookieOf(first)!);
      expect(second.body).toEqual({ count: 1 });
      expect(cookieOf(second)).not.toBe(cookieOf(first));
    });

    it('any id from genid is stored (encoded into a well-formed key): unsafe characters, long ids, and distinct ids stay distinct', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend);
      const ids = ['%', '/path?x=1', '{0f8fad5b-d9cb-469f-a165-70867728950e}', 'a'.repeat(200), 'b'.repeat(200), 'ünïcödé', SID];
      for (const [index, id] of ids.entries()) await store.set(id, sessionData({ index }));
      for (const [index, id] of ids.entries()) expect(await store.get(id)).toMatchObject({ index });
      expect(storeKeyOfSessionId(SID)).toBe(SID);
      expect(new Set(ids.map(storeKeyOfSessionId)).size).toBe(ids.length);
      expect((await backend.get(storeKeyOfSessionId('%'))).ok).toBe(true);
      await store.destroy('%');
      expect(await store.get('%')).toBeNull();
      expect(await store.get('/path?x=1')).toMatchObject({ index: 1 });
      const server = express();
      let made = 0;
      server.use(session({ store, secret: 'test secret', resave: false, saveUninitialized: false, genid: () => `%/${++made} {id}` }));
      server.get('/count', (req, res) => {
        const data = req.session as unknown as { count?: number };
        data.count = (data.count ?? 0) + 1;
        res.json({ count: data.count, id: req.sessionID });
      });
      const first = await request(server).get('/count');
      expect(first.body).toEqual({ count: 1, id: '%/1 {id}' });
      expect((await request(server).get('/count').set('Cookie', cookieOf(first)!)).body).toEqual({ count: 2, id: '%/1 {id}' });
    });

    it('a cookie.expires that is not a date is kept for ttl, as MemoryStore keeps it (express-session reports the bad cookie itself)', async () => {
      const backend = await makeBackend();
      const store = new SessionkitStore(backend, { ttl: 120 });
      const stored = { cookie: { originalMaxAge: null, expires: 'not a date', path: '/' }, user: 'ada' } as unknown as session.SessionData;
      await store.set(SID, stored);
      expect(await store.get(SID)).toMatchObject({ user: 'ada' });
      const raw = await backend.get(SID);
      expect(raw.ok && raw.period).toBeLessThanOrEqual(120);
      expect(raw.ok && raw.period).toBeGreaterThan(60);
    });

    it('a bad option is a TypeError at construction', async () => {
      const backend = await makeBackend();
      expect(() => new SessionkitStore(backend, { ttl: 0 })).toThrow(TypeError);
      expect(() => new SessionkitStore(backend, { tll: 5 } as never)).toThrow(/unknown SessionkitStore option "tll"/);
    });

    it('on a backend that cannot enumerate, all, length, clear and ids call back with a TypeError naming the capability', async () => {
      const backend = await makeBackend();
      // The backend's own put/get/clear, with the enumeration methods left out.
      const putOnly = { defaultPeriod: () => backend.defaultPeriod(), get: (key: string) => backend.get(key), put: (key: string, value: string, options?: { expiry?: number }) => backend.put(key, value, options), clear: (key: string) => backend.clear(key) };
      const store = new SessionkitStore(putOnly as unknown as Backend);
      await store.set(SID, sessionData({ a: 1 }));
      for (const method of ['all', 'length', 'clear', 'ids'] as const) {
        const { error } = await called((cb) => (store[method] as (cb: (error: unknown) => void) => void)(cb));
        expect(error).toBeInstanceOf(TypeError);
        expect(String(error)).toMatch(/countLive\/liveSessions\/clearAll/);
      }
      expect(await store.get(SID)).toMatchObject({ a: 1 });
    });

    it.skipIf(makeGoneBackend === undefined)(`a store that went away: every method calls back with the BackendError${makeGoneBackend ? '' : ' (skipped: the memory store cannot go away)'}`, async () => {
      const store = new SessionkitStore(await makeGoneBackend!());
      for (const start of [(cb: (e: unknown) => void) => store.get(SID, cb), (cb: (e: unknown) => void) => store.set(SID, sessionData({}), cb), (cb: (e: unknown) => void) => store.destroy(SID, cb), (cb: (e: unknown) => void) => store.touch(SID, sessionData({}), cb), (cb: (e: unknown) => void) => store.length(cb), (cb: (e: unknown) => void) => store.all(cb), (cb: (e: unknown) => void) => store.clear(cb)]) {
        const { error } = await called(start);
        expect(isBackendError(error)).toBe(true);
      }
      // express-session reads the store only for a correctly signed cookie; its read failure goes to next(err), and the
      // BackendError of an outage carries http-errors' 503 and Retry-After, which Express's final handler answers.
      const signature = createHmac('sha256', 'test secret').update(SID).digest('base64').replace(/=+$/, '');
      const reply = await request(app(store)).get('/read').set('Cookie', `connect.sid=${encodeURIComponent(`s:${SID}.${signature}`)}`);
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('1');
    });
  });
}

import { parseSetCookie } from 'cookie';
import { afterEach, describe, expect, it } from 'vitest';
import { digestKey, generateKey, isBackendError, MemoryBackend, type Backend, type OwnerIndexBackend, type OwnerIndexOptions, type SessionEvent } from '../../../src/index.js';
import type { OwnSession, SessionOptions } from '../../../src/http/index.js';
import { InstrumentedOwnerBackend, TestClock } from '../../http/support/instrumented-backend.js';
import { lateWrites, type AppFactory, type TestClient, type TestReply } from './app-spec.js';

/** The session key a reply's `sid` cookie sets ('' when it expires the cookie), or undefined without one. */
export function sidOf(reply: TestReply, cookieName = 'sid'): string | undefined {
  const line = reply.setCookies.find((c) => c.startsWith(`${cookieName}=`));
  return line === undefined ? undefined : (parseSetCookie(line).value ?? '');
}

export const withKey = (key: string, cookieName = 'sid') => ({ cookie: `${cookieName}=${key}` });

/** Registers, in the calling `describe`, an `afterEach` that closes every app and backend handed to the returned function. */
function closeAfterEach(): (client: TestClient, backend: Backend) => void {
  const open: Array<{ client: TestClient; backend: Backend }> = [];
  afterEach(async () => {
    for (const { client, backend } of open.splice(0)) {
      await client.close();
      await backend.close();
    }
  });
  return (client, backend) => void open.push({ client, backend });
}

/** Bytes of a UTF-8 string as the latin1 string node's and fetch's header APIs accept. */
const rawBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/**
 * Concurrency on a real store: 100 parallel increments end at 100, and
 * parallel writes to different fields all survive. Written once, run for
 * every adapter on every backend.
 */
export function describeConcurrency(name: string, factory: AppFactory, backendFactory: () => Promise<Backend>): void {
  describe(`${name}: concurrency`, () => {
    const keepOpen = closeAfterEach();
    const start = async () => {
      const backend = await backendFactory();
      const client = await factory(backend, {});
      keepOpen(client, backend);
      return client;
    };

    it('100 concurrent update() increments on one cookie end at 100, each request seeing its own count', async () => {
      const client = await start();
      const key = sidOf(await client.get('/set?f0=start'))!;
      const replies = await Promise.all(Array.from({ length: 100 }, () => client.get('/count', withKey(key))));
      expect(replies.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect(replies.map((r) => Number(r.body)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(JSON.parse((await client.get('/read', withKey(key))).body)).toEqual({ f0: 'start', count: 100 });
    });

    it('20 concurrent requests each setting its own field keep all 20', async () => {
      const client = await start();
      const key = sidOf(await client.get('/set?f0=start'))!;
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.get(`/set-slow?f${i + 1}=v${i + 1}`, withKey(key))));
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
      const expected = Object.fromEntries([['f0', 'start'], ...Array.from({ length: 20 }, (_, i) => [`f${i + 1}`, `v${i + 1}`])]);
      expect(JSON.parse((await client.get('/read', withKey(key))).body)).toEqual(expected);
    });
  });
}

/**
 * Sessions by owner through an adapter on a real store: login as an owner
 * (`regenerate({ owner })`), the owner read back on later requests,
 * `listOwnSessions()` and `logoutEverywhere()` with and without the current
 * session. Written once, run for every adapter on every backend with owners.
 */
export function describeOwners(name: string, factory: AppFactory, backendFactory: () => Promise<OwnerIndexBackend>): void {
  describe(`${name}: sessions by owner`, () => {
    const keepOpen = closeAfterEach();
    const start = async () => {
      const backend = await backendFactory();
      const client = await factory(backend, { owners: true });
      keepOpen(client, backend);
      return client;
    };
    const owner = () => `user-${generateKey().slice(0, 12)}`;

    it('a login as an owner is a new key that later requests read the owner from; listOwnSessions marks the current one', async () => {
      const client = await start();
      const user = owner();
      const anonymous = sidOf(await client.get('/set?f1=a'))!;
      const first = sidOf(await client.get(`/login-as?owner=${user}`, withKey(anonymous)))!;
      expect(first).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(first).not.toBe(anonymous);
      expect((await client.get('/owner', withKey(first))).body).toBe(user);
      expect(JSON.parse((await client.get('/read', withKey(first))).body)).toEqual({ f1: 'a', user });
      expect((await client.get('/owner', withKey(anonymous))).body).toBe('');

      const second = sidOf(await client.get(`/login-as?owner=${user}`))!;
      const reply = await client.get('/own-sessions', withKey(second));
      const listed = JSON.parse(reply.body) as OwnSession[];
      expect(listed.map((s) => s.keyDigest).sort()).toEqual([digestKey(first), digestKey(second)].sort());
      expect(listed.filter((s) => s.current).map((s) => s.keyDigest)).toEqual([digestKey(second)]);
      expect(reply.body).not.toContain(first);
      expect(reply.body).not.toContain(second);
    });

    it('logoutEverywhere: keepCurrent ends the other devices at once; without it, this one ends too', async () => {
      const client = await start();
      const user = owner();
      const [a, b, c] = await Promise.all([1, 2, 3].map(async () => sidOf(await client.get(`/login-as?owner=${user}`))!));
      const stranger = sidOf(await client.get(`/login-as?owner=${owner()}`))!;

      const others = await client.get('/logout-everywhere?keep=1', withKey(a!));
      expect(others.body).toBe('2');
      expect(others.setCookies.filter((line) => /Max-Age=0/.test(line))).toEqual([]);
      for (const gone of [b!, c!]) {
        expect((await client.get('/owner', withKey(gone))).body).toBe('');
        expect((await client.get('/read', withKey(gone))).body).toBe('{}');
      }
      expect((await client.get('/owner', withKey(a!))).body).toBe(user);
      expect((await client.get('/owner', withKey(stranger))).body).not.toBe('');

      const all = await client.get('/logout-everywhere', withKey(a!));
      expect(all.body).toBe('1');
      expect(all.setCookies).toEqual(['sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
      expect((await client.get('/owner', withKey(a!))).body).toBe('');
      expect(JSON.parse((await client.get('/own-sessions', withKey(stranger))).body)).toHaveLength(1);
    });
  });
}

/**
 * The owner's session limit through an adapter on a real store: a login
 * refused at the limit is a 409 without `Set-Cookie` that leaves the session
 * it came from as it was, and parallel logins of one owner near the limit
 * never leave more than the limit live, under either policy.
 */
export function describeOwnerLimit(name: string, factory: AppFactory, backendFactory: (options: OwnerIndexOptions) => Promise<OwnerIndexBackend>): void {
  describe(`${name}: maxSessionsPerOwner`, () => {
    const keepOpen = closeAfterEach();
    const start = async (options: OwnerIndexOptions) => {
      const backend = await backendFactory(options);
      const client = await factory(backend, { owners: true });
      keepOpen(client, backend);
      return { client, backend };
    };
    const owner = () => `user-${generateKey().slice(0, 12)}`;

    it("'refuse': a login at the limit is a 409 without Set-Cookie; the session it came from and the owner's sessions stay as they were", async () => {
      const { client, backend } = await start({ maxSessionsPerOwner: 2, onMaxSessionsPerOwner: 'refuse' });
      const user = owner();
      const devices = [sidOf(await client.get(`/login-as?owner=${user}`))!, sidOf(await client.get(`/login-as?owner=${user}`))!];
      const anonymous = sidOf(await client.get('/set?f1=kept'))!;
      const refused = await client.get(`/login-as?owner=${user}`, withKey(anonymous));
      expect(refused.status).toBe(409);
      expect(refused.setCookies).toEqual([]);
      // The session the login came from: still there, still anonymous, its data whole.
      expect(JSON.parse((await client.get('/read', withKey(anonymous))).body)).toEqual({ f1: 'kept' });
      expect((await client.get('/owner', withKey(anonymous))).body).toBe('');
      expect((await backend.listByOwner(user)).map((s) => s.keyDigest).sort()).toEqual(devices.map(digestKey).sort());
      for (const key of devices) expect((await client.get('/owner', withKey(key))).body).toBe(user);
      // Another owner logs in as usual.
      expect((await client.get(`/login-as?owner=${owner()}`)).status).toBe(200);
    });

    for (const policy of ['end-oldest', 'refuse'] as const) {
      it(`'${policy}': 10 parallel logins of one owner with 1 of 3 places taken leave 3 live sessions`, async () => {
        const { client, backend } = await start({ maxSessionsPerOwner: 3, onMaxSessionsPerOwner: policy });
        const user = owner();
        const first = sidOf(await client.get(`/login-as?owner=${user}`))!;
        const replies = await Promise.all(Array.from({ length: 10 }, () => client.get(`/login-as?owner=${user}`)));
        const loggedIn = replies.filter((reply) => reply.status === 200).map((reply) => sidOf(reply)!);
        const refused = replies.filter((reply) => reply.status === 409);
        expect(loggedIn.length + refused.length).toBe(10);
        for (const reply of refused) expect(reply.setCookies).toEqual([]);
        const listed = (await backend.listByOwner(user)).map((s) => s.keyDigest);
        expect(listed).toHaveLength(3);
        const live = [];
        for (const key of [first, ...loggedIn]) if ((await client.get('/owner', withKey(key))).body === user) live.push(digestKey(key));
        expect(live.sort()).toEqual([...listed].sort());
        if (policy === 'refuse') {
          expect(loggedIn).toHaveLength(2);
          expect(live).toContain(digestKey(first));
        } else {
          expect(loggedIn).toHaveLength(10);
        }
      });
    }
  });
}

/**
 * The header transport on a real store, as an API client uses it: log in
 * (the key comes back in the response header), use the session with the
 * key in the request header, log out (an empty response header; the key
 * names nothing after). With `Authorization: Bearer` and with a named header.
 * Written once, run for every adapter on every backend.
 */
export function describeSessionHeader(name: string, factory: AppFactory, backendFactory: () => Promise<Backend>): void {
  describe(`${name}: the session key in a header`, () => {
    const keepOpen = closeAfterEach();
    const start = async (options: SessionOptions) => {
      const backend = await backendFactory();
      const client = await factory(backend, options);
      keepOpen(client, backend);
      return client;
    };

    it.each([
      ['Authorization: Bearer, Set-Auth-Token', { cookie: false, header: true }, 'set-auth-token', (key: string) => ({ authorization: `Bearer ${key}` })],
      ['X-Session-Token both ways', { cookie: false, header: { requestHeader: 'X-Session-Token' } }, 'x-session-token', (key: string) => ({ 'x-session-token': key })],
    ] as const)('%s: log in, use the session, log out', async (_case, transport, responseHeader, send) => {
      const client = await start({ transport });
      const login = await client.get('/login?user=ann');
      const key = login.header(responseHeader)!;
      expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(login.header('cache-control')).toBe('no-store');
      expect(login.setCookies).toEqual([]);

      const used = await client.get('/read', send(key));
      expect(JSON.parse(used.body)).toEqual({ user: 'ann' });
      // The key did not change: nothing to hand back.
      expect(used.header(responseHeader)).toBeUndefined();

      const logout = await client.get('/logout', send(key));
      expect(logout.header(responseHeader)).toBe('');
      expect(logout.header('cache-control')).toBe('no-store');
      expect((await client.get('/read', send(key))).body).toBe('{}');
    });
  });
}

/** A 503 for a store that is down: `Retry-After`, no `Set-Cookie`. */
function expectOutage(reply: TestReply): void {
  expect(reply.status).toBe(503);
  expect(reply.header('retry-after')).toBe('1');
  expect(reply.setCookies).toEqual([]);
}

/** Every behaviour an adapter must show (docs/http.md, "What happens on a request"), against the real framework, on MemoryBackend. */
export function describeAdapter(name: string, factory: AppFactory): void {
  describe(`${name} adapter`, () => {
    const keepOpen = closeAfterEach();
    const start = async (options: SessionOptions = {}, clock?: TestClock) => {
      const memory = new MemoryBackend(clock ? { nowMs: clock.monotonicMs } : {});
      const backend = new InstrumentedOwnerBackend(memory);
      const client = await factory(backend, { ...(clock ? { nowMs: clock.nowMs } : {}), ...options });
      keepOpen(client, backend);
      return { client, backend, memory };
    };
    const readData = async (client: TestClient, key: string) => JSON.parse((await client.get('/read', withKey(key))).body) as unknown;

    describe('cookies', () => {
      it('the first write sets the cookie with the defaults, Cache-Control: no-store and Vary: Cookie', async () => {
        const { client } = await start();
        const reply = await client.get('/set?f1=a');
        expect(reply.status).toBe(200);
        expect(reply.setCookies).toHaveLength(1);
        expect(reply.setCookies[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
        expect(reply.header('cache-control')).toBe('no-store');
        expect(reply.header('vary')).toMatch(/\bCookie\b/);
      });

      it('a __Host- name gives Secure and Path=/; options are honoured', async () => {
        const { client } = await start({ cookieName: '__Host-s', cookie: { sameSite: 'strict' }, idleTimeoutSeconds: 900 });
        const reply = await client.get('/set?f1=a');
        expect(reply.setCookies[0]).toMatch(/^__Host-s=[A-Za-z0-9_-]{40}; Max-Age=900; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      });

      it("keeps the handler's Cache-Control and adds Cookie to its Vary", async () => {
        const { client } = await start();
        const reply = await client.get('/cached');
        expect(sidOf(reply)).toBeTruthy();
        expect(reply.header('cache-control')).toBe('private, max-age=60');
        expect(reply.header('vary')).toBe('Accept-Encoding, Cookie');
      });

      it("keeps the handler's status code", async () => {
        const { client } = await start();
        expect((await client.get('/status')).status).toBe(201);
      });
    });

    describe('laziness', () => {
      it('a request that writes nothing costs no store call without a cookie, one read with one, and sets no cookie', async () => {
        const { client, backend } = await start();
        const fresh = await client.get('/read');
        expect(fresh.body).toBe('{}');
        expect(fresh.setCookies).toEqual([]);
        expect(fresh.header('vary')).toMatch(/\bCookie\b/);
        expect(backend.calls).toEqual({ get: 0, generate: 0, set: 0, compareAndSet: 0, put: 0, clear: 0 });

        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.resetCounts();
        const known = await client.get('/read', withKey(key));
        expect(known.body).toBe('{"f1":"a"}');
        expect(known.setCookies).toEqual([]);
        expect(backend.calls.get).toBe(1);
        expect(backend.writes).toBe(0);
      });
    });

    describe('regenerate and destroy', () => {
      it('login regenerates: new key, same data, the old key no longer works', async () => {
        const { client, backend } = await start();
        const before = sidOf(await client.get('/set?f1=a'))!;
        const after = sidOf(await client.get('/login?user=bob', withKey(before)))!;
        expect(after).toMatch(/^[A-Za-z0-9_-]{40}$/);
        expect(after).not.toBe(before);
        expect(await readData(client, after)).toEqual({ f1: 'a', user: 'bob' });
        expect(await readData(client, before)).toEqual({});
        expect(await backend.get(before)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('logout destroys: the cookie expires and the old key no longer works', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/login?user=bob'))!;
        const reply = await client.get('/logout', withKey(key));
        expect(reply.setCookies).toEqual(['sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax']);
        expect(await readData(client, key)).toEqual({});
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });
    });

    describe('rolling expiry', () => {
      it('touchAfterSeconds: a read inside the window writes nothing; after it the cookie is renewed', async () => {
        const clock = new TestClock();
        const { client, backend } = await start({ idleTimeoutSeconds: 100, touchAfterSeconds: 10 }, clock);
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.resetCounts();
        clock.advance(9);
        const inside = await client.get('/read', withKey(key));
        expect(inside.setCookies).toEqual([]);
        expect(backend.writes).toBe(0);
        clock.advance(2);
        const after = await client.get('/read', withKey(key));
        expect(after.setCookies[0]).toMatch(new RegExp(`^sid=${key}; Max-Age=100;`));
        expect(backend.writes).toBe(1);
      });

      it('absoluteLifetimeSeconds ends an active session', async () => {
        const clock = new TestClock();
        const { client } = await start({ idleTimeoutSeconds: 100, touchAfterSeconds: 0, absoluteLifetimeSeconds: 30 }, clock);
        const first = await client.get('/count');
        expect(first.setCookies[0]).toMatch(/Max-Age=30;/);
        const key = sidOf(first)!;
        clock.advance(20);
        const active = await client.get('/count', withKey(key));
        expect(active.body).toBe('2');
        expect(active.setCookies[0]).toMatch(/Max-Age=10;/);
        clock.advance(11);
        const ended = await client.get('/read', withKey(key));
        expect(ended.body).toBe('{}');
      });
    });

    describe('store failures', () => {
      it('a save that meets a store outage becomes a 503 with Retry-After, without Set-Cookie, and the stored session is unchanged', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.failing.add('compareAndSet');
        const reply = await client.get('/set?f1=b', withKey(key));
        expectOutage(reply);
        expect(reply.body).not.toBe('ok');
        backend.failing.clear();
        expect(await readData(client, key)).toEqual({ f1: 'a' });
      });

      it('a first save (generate) that meets a store outage is a 503 without Set-Cookie', async () => {
        const { client, backend } = await start();
        backend.failing.add('generate');
        expectOutage(await client.get('/set?f1=a'));
      });

      it("a store outage in the handler's own update() is a 503 with Retry-After, without Set-Cookie", async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/count'))!;
        backend.failing.add('compareAndSet');
        expectOutage(await client.get('/count', withKey(key)));
        backend.failing.clear();
        expect(await readData(client, key)).toEqual({ count: 1 });
      });

      it('a read that meets a store outage is a 503 without Set-Cookie', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.failing.add('get');
        expectOutage(await client.get('/read', withKey(key)));
      });

      it('a store failure that is not an outage (query_failed) stays a 500', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.failWith = 'query_failed';
        backend.failing.add('get');
        const reply = await client.get('/read', withKey(key));
        expect(reply.status).toBe(500);
        expect(reply.header('retry-after')).toBeUndefined();
        expect(reply.setCookies).toEqual([]);
      });

      it('a login whose old key cannot be removed (store outage) is a 503; the client keeps its old, intact session', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.failing.add('clear');
        expectOutage(await client.get('/login?user=bob', withKey(key)));
        backend.failing.clear();
        expect(await readData(client, key)).toEqual({ f1: 'a' });
      });

      it('a handler error is the framework 500', async () => {
        const { client } = await start();
        expect((await client.get('/throw')).status).toBe(500);
      });
    });

    describe('hostile input', () => {
      const key = generateKey();
      const other = generateKey();
      const hostile: Array<[string, string]> = [
        ['duplicated name', `sid=${key}; sid=${other}`],
        ['malformed value', 'sid=%%%%; a="b'],
        ['quoted value', `sid="${key}"`],
        ['only separators', ';;;; = ; ='],
        ['name without value', 'sid'],
        ['over-long value', `sid=${'a'.repeat(5000)}`],
        ['many cookies', 'x=1; '.repeat(2500)],
        ['non-ASCII (UTF-8 bytes)', rawBytes('sid=\u2603\u00e9; caf\u00e9=\u{1F600}')],
        ['latin1 byte', `sid=${key.slice(0, 39)}\u00ff`],
      ];

      it.each(hostile)('%s: no session, never a 500', async (_label, cookie) => {
        const { client } = await start();
        const read = await client.get('/read', { cookie });
        expect(read.status).toBe(200);
        expect(read.body).toBe('{}');
        const write = await client.get('/set?f1=a', { cookie });
        expect(write.status).toBe(200);
        expect(sidOf(write)).toMatch(/^[A-Za-z0-9_-]{40}$/);
        expect(cookie).not.toContain(sidOf(write));
      });

      it('two real sessions under one name (cookie tossing) pick neither', async () => {
        const { client } = await start();
        const mine = sidOf(await client.get('/set?f1=mine'))!;
        const theirs = sidOf(await client.get('/set?f1=theirs'))!;
        expect((await client.get('/read', { cookie: `sid=${theirs}; sid=${mine}` })).body).toBe('{}');
      });

      it('a forged well-formed key is never adopted', async () => {
        const { client, backend } = await start();
        const forged = generateKey();
        const reply = await client.get('/set?f1=a', withKey(forged));
        expect(reply.status).toBe(200);
        expect(sidOf(reply)).not.toBe(forged);
        expect(await backend.get(forged)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('data over the size limit is an error before anything is written', async () => {
        const { client, backend } = await start();
        const key = sidOf(await client.get('/set?f1=a'))!;
        backend.resetCounts();
        const fresh = await client.get('/big');
        expect(fresh.status).toBe(500);
        expect(fresh.setCookies).toEqual([]);
        const existing = await client.get('/big', withKey(key));
        expect(existing.status).toBe(500);
        expect(existing.setCookies).toEqual([]);
        expect(backend.writes).toBe(0);
        expect(await readData(client, key)).toEqual({ f1: 'a' });
      });
    });

    describe('a write after the response', () => {
      it('is dropped with a write-dropped event, and never thrown into the timer that made it', async () => {
        const events: SessionEvent[] = [];
        const { client } = await start({ onEvent: (event) => events.push(event) });
        const timerRan = new Promise<void>((resolve) => (lateWrites.done = resolve));
        const reply = await client.get('/late');
        await timerRan;
        const key = sidOf(reply)!;
        expect(await readData(client, key)).toEqual({ f1: 'in time' });
        expect(events.filter((event) => event.type === 'write-dropped')).toEqual([{ type: 'write-dropped', store: 'http', operation: 'set', keyDigest: digestKey(key) }]);
      });
    });

    describe('events', () => {
      it('onEvent receives created, regenerated, destroyed, conflict-retried and error, with keys only as digests', async () => {
        const events: SessionEvent[] = [];
        const { client, backend } = await start({ onEvent: (event) => events.push(event) });
        const first = sidOf(await client.get('/set?f1=a'))!;
        const loggedIn = sidOf(await client.get('/login?user=bob', withKey(first)))!;
        expect((await client.get('/logout', withKey(loggedIn))).status).toBe(200);
        const busy = sidOf(await client.get('/set?f0=start'))!;
        // Every request loads the same value before any of them writes: all but one meet a conflict.
        await Promise.all([1, 2, 3, 4, 5].map((i) => client.get(`/set-slow?f${i}=v`, withKey(busy))));
        backend.failing.add('get');
        expect((await client.get('/read', withKey(busy))).status).toBe(503);
        backend.failing.clear();
        backend.failing.add('compareAndSet');
        expect((await client.get('/set?f1=b', withKey(busy))).status).toBe(503);
        backend.failing.clear();

        const byType = (type: SessionEvent['type']) => events.filter((event) => event.type === type);
        expect(events.every((event) => event.store === 'http')).toBe(true);
        expect(byType('created')).toEqual([
          { type: 'created', store: 'http', keyDigest: digestKey(first) },
          { type: 'created', store: 'http', keyDigest: digestKey(busy) },
        ]);
        expect(byType('regenerated')).toEqual([{ type: 'regenerated', store: 'http', fromDigest: digestKey(first), toDigest: digestKey(loggedIn) }]);
        expect(byType('destroyed')).toEqual([{ type: 'destroyed', store: 'http', keyDigest: digestKey(loggedIn) }]);
        const retries = byType('conflict-retried');
        expect(retries.length).toBeGreaterThanOrEqual(1);
        for (const retry of retries) expect(retry).toMatchObject({ keyDigest: digestKey(busy), attempt: expect.any(Number) });
        const errors = byType('error');
        expect(errors.map((e) => e.type === 'error' && e.during)).toEqual(['load', 'commit']);
        expect(errors.every((e) => e.type === 'error' && isBackendError(e.error) && e.error.code === 'unavailable')).toBe(true);

        const text = JSON.stringify(events, (_name, value: unknown) => (value instanceof Error ? { ...value, name: value.name, message: value.message } : value));
        for (const key of [first, loggedIn, busy]) expect(text).not.toContain(key);
      });
    });
  });

  describeConcurrency(`${name} on MemoryBackend`, factory, async () => new MemoryBackend());
  describeOwners(`${name} on MemoryBackend`, factory, async () => new MemoryBackend());
}

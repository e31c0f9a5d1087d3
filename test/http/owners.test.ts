import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BackendError, digestKey, MemoryBackend, supportsOwners, type Backend, type OwnerIndexBackend } from '../../src/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { parseSetCookie } from 'cookie';
import { SessionEngine, type HeaderPair, type OwnSession, type SessionOptions } from '../../src/http/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { InstrumentedBackend, InstrumentedOwnerBackend } from './support/instrumented-backend.js';
import { simulate, storedData } from './support/simulate.js';

interface Data {
  user?: string;
  count?: number;
  a?: string;
}

/** The key a response's Set-Cookie carries. */
function cookieKey(pairs: HeaderPair[]): string {
  const line = pairs.find(([name]) => name === 'Set-Cookie');
  if (line === undefined) throw new Error('no Set-Cookie');
  return parseSetCookie(line[1]).value ?? '';
}

type OwnerStore = OwnerIndexBackend;
type StoreFactory = (options?: { maxSessionsPerOwner?: number }) => Promise<OwnerStore>;

/**
 * Sessions by owner through the typed-session engine, on one real store:
 * written once, run on every backend that keeps sessions by owner.
 */
function describeOwners(storeName: string, makeStore: StoreFactory): void {
  describe(`sessions by owner on ${storeName}`, () => {
    const opened: OwnerStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });
    let owners = 0;
    /** An owner no other test uses (tables are shared within a store). */
    const newOwner = () => `user-${process.pid}-${++owners}-${Math.random().toString(36).slice(2, 8)}`;

    async function setup(options: SessionOptions = {}, storeOptions: { maxSessionsPerOwner?: number } = {}) {
      const inner = await makeStore(storeOptions);
      opened.push(inner);
      const backend = new InstrumentedOwnerBackend(inner);
      const engine = new SessionEngine<Data>(backend, { owners: true, ...options });
      /** Logs a new device in as `owner`; returns the key. */
      const login = async (owner: string, key?: string) => {
        const { cookie } = await simulate(engine, key, (s) => {
          s.regenerate({ owner });
          s.set('user', owner);
        });
        return cookie!.value!;
      };
      return { inner, backend, engine, login };
    }

    it('regenerate({ owner }) logs in: a new key filed under the owner, data kept, old key gone', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const anonymous = (await simulate(engine, undefined, (s) => s.set('a', 'kept'))).cookie!.value!;
      const key = await login(owner, anonymous);
      expect(key).not.toBe(anonymous);
      expect(await backend.get(anonymous)).toEqual({ ok: false, error: 'NotFound' });
      expect(await storedData(backend, key)).toEqual({ a: 'kept', user: owner });
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest)).toEqual([digestKey(key)]);
    });

    it('the owner survives later requests, read from the stored session with no extra store call', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const key = await login(owner);
      backend.resetCounts();
      const { session } = await simulate(engine, key, (s) => expect(s.owner).toBe(owner));
      expect(session.owner).toBe(owner);
      expect(backend.calls.get).toBe(1);
      expect(backend.ownerCalls).toEqual({ listByOwner: 0, clearByOwner: 0, clearOwnedSession: 0 });
      const counted = await simulate(engine, key, (s) => s.update((d) => ({ ...d, count: 1 })));
      expect(counted.session.owner).toBe(owner);
      expect((await simulate(engine, key)).session.owner).toBe(owner);
    });

    it('a login without a session creates one even when no field is written', async () => {
      const { backend, engine } = await setup();
      const owner = newOwner();
      const { cookie, session } = await simulate(engine, undefined, (s) => {
        expect(s.owner).toBeUndefined();
        s.regenerate({ owner });
        expect(s.owner).toBe(owner);
      });
      expect(session.status).toBe('modified');
      expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(await storedData(backend, cookie!.value!)).toEqual({});
      expect(await backend.listByOwner(owner)).toHaveLength(1);
    });

    it('regenerate() keeps the owner under the new key; destroy() drops it, and later fields start an anonymous session', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const first = await login(owner);
      const second = (await simulate(engine, first, (s) => s.regenerate())).cookie!.value!;
      expect(second).not.toBe(first);
      expect((await simulate(engine, second)).session.owner).toBe(owner);
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest)).toEqual([digestKey(second)]);

      const { cookie, session } = await simulate(engine, second, (s) => {
        s.destroy();
        expect(s.owner).toBeUndefined();
        s.set('a', 'after');
      });
      expect(session.owner).toBeUndefined();
      expect((await simulate(engine, cookie!.value!)).session.owner).toBeUndefined();
      expect(await backend.listByOwner(owner)).toEqual([]);
    });

    it("listOwnSessions: the owner's live sessions as digests, this one marked current; none without an owner", async () => {
      const { engine, login } = await setup();
      const owner = newOwner();
      const keys = [await login(owner), await login(owner), await login(owner)];
      await login(newOwner());
      let listed: OwnSession[] = [];
      await simulate(engine, keys[1], async (s) => {
        listed = await s.listOwnSessions();
      });
      expect(listed.map((s) => s.keyDigest).sort()).toEqual(keys.map(digestKey).sort());
      expect(listed.filter((s) => s.current).map((s) => s.keyDigest)).toEqual([digestKey(keys[1]!)]);
      for (const entry of listed) {
        expect(entry.expiresInSeconds).toBeGreaterThan(604_000);
        expect(entry.createdAt).toBeInstanceOf(Date);
      }
      const text = JSON.stringify(listed);
      for (const key of keys) expect(text).not.toContain(key);

      await simulate(engine, undefined, async (s) => expect(await s.listOwnSessions()).toEqual([]));
    });

    it('logoutEverywhere({ keepCurrent: true }) ends the other devices at once and keeps this one', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const stranger = newOwner();
      const [mine, other1, other2] = [await login(owner), await login(owner), await login(owner)];
      const theirs = await login(stranger);

      let removed = -1;
      const { cookie, session } = await simulate(engine, mine, async (s) => {
        removed = await s.logoutEverywhere({ keepCurrent: true });
        // At once, not at the commit: the other devices are already logged out.
        expect(await backend.get(other1!)).toEqual({ ok: false, error: 'NotFound' });
      });
      expect(removed).toBe(2);
      expect(session.status).toBe('unmodified');
      expect(cookie?.maxAge).not.toBe(0);
      for (const gone of [other1!, other2!]) {
        const later = await simulate(engine, gone);
        expect(later.session.isNew).toBe(true);
        expect(later.session.owner).toBeUndefined();
      }
      expect((await simulate(engine, mine)).session.owner).toBe(owner);
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest)).toEqual([digestKey(mine!)]);
      expect((await backend.listByOwner(stranger)).map((s) => s.keyDigest)).toEqual([digestKey(theirs)]);
    });

    it('logoutEverywhere() ends every session of the owner, this one too, and expires its cookie', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const [mine, other] = [await login(owner), await login(owner)];
      let removed = -1;
      const { cookie, session } = await simulate(engine, mine, async (s) => {
        removed = await s.logoutEverywhere();
      });
      expect(removed).toBe(2);
      expect(session.status).toBe('destroyed');
      expect(cookie).toMatchObject({ value: '', maxAge: 0 });
      expect(await backend.get(mine!)).toEqual({ ok: false, error: 'NotFound' });
      expect(await backend.get(other!)).toEqual({ ok: false, error: 'NotFound' });
      expect(await backend.listByOwner(owner)).toEqual([]);
    });

    it('an anonymous session: logoutEverywhere removes nothing else, and without keepCurrent still ends this one', async () => {
      const { backend, engine } = await setup();
      const key = (await simulate(engine, undefined, (s) => s.set('a', 'x'))).cookie!.value!;
      await simulate(engine, key, async (s) => expect(await s.logoutEverywhere({ keepCurrent: true })).toBe(0));
      expect(await storedData(backend, key)).toEqual({ a: 'x' });
      const { cookie } = await simulate(engine, key, async (s) => expect(await s.logoutEverywhere()).toBe(0));
      expect(cookie).toMatchObject({ value: '', maxAge: 0 });
      expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    });

    it('a request in flight on a revoked device cannot bring the login back', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const [mine, revoked, revokedToo, revokedThree] = [await login(owner), await login(owner), await login(owner), await login(owner)];
      const inFlight = await engine.load(`sid=${revoked}`);
      const updating = await engine.load(`sid=${revokedToo}`);
      const regenerating = await engine.load(`sid=${revokedThree}`);
      regenerating.session.regenerate();
      regenerating.session.set('count', 7);
      expect(inFlight.session.owner).toBe(owner);
      inFlight.session.set('a', 'late write');

      await simulate(engine, mine, (s) => s.logoutEverywhere({ keepCurrent: true }));

      const lateKey = cookieKey(await inFlight.commit());
      await updating.session.update((d) => ({ ...d, count: 1 }));
      const updatedKey = cookieKey(await updating.commit());
      // A regeneration of a session that ended is refused, as a late parallel one is: it creates no key and sends no cookie.
      await expect(regenerating.commit()).rejects.toMatchObject({ name: 'SessionRegeneratedError', reason: 'ended' });
      for (const session of [inFlight.session, updating.session]) expect(session.owner).toBeUndefined();
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest)).toEqual([digestKey(mine!)]);
      // Their writes went to new anonymous sessions holding only what they wrote: no `user`.
      expect(lateKey).not.toBe(revoked);
      expect(updatedKey).not.toBe(revokedToo);
      expect(await storedData(backend, lateKey)).toEqual({ a: 'late write' });
      expect(await storedData(backend, updatedKey)).toEqual({ count: 1 });
      expect((await simulate(engine, lateKey)).session.owner).toBeUndefined();
    });

    it('login and log out the other devices in one request', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      await login(owner);
      await login(owner);
      const anonymous = (await simulate(engine, undefined, (s) => s.set('a', 'cart'))).cookie!.value!;
      let removed = -1;
      const { cookie } = await simulate(engine, anonymous, async (s) => {
        s.regenerate({ owner });
        removed = await s.logoutEverywhere({ keepCurrent: true });
      });
      expect(removed).toBe(2);
      const key = cookie!.value!;
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest)).toEqual([digestKey(key)]);
      expect(await storedData(backend, key)).toEqual({ a: 'cart' });
    });

    it('maxSessionsPerOwner: a login beyond the limit removes the oldest session', async () => {
      const { backend, login } = await setup({}, { maxSessionsPerOwner: 2 });
      const owner = newOwner();
      // PostgreSQL keeps creation times to 10 ms: logins apart by more than that have a well-defined oldest.
      const apart = () => new Promise((resolve) => setTimeout(resolve, 25));
      const oldest = await login(owner);
      await apart();
      const middle = await login(owner);
      await apart();
      const newest = await login(owner);
      expect(await backend.get(oldest)).toEqual({ ok: false, error: 'NotFound' });
      expect((await backend.listByOwner(owner)).map((s) => s.keyDigest).sort()).toEqual([digestKey(middle), digestKey(newest)].sort());
    });

    it('an invalid owner is a TypeError and nothing is written', async () => {
      const { backend, engine } = await setup();
      await simulate(engine, undefined, (s) => {
        expect(() => s.regenerate({ owner: '' })).toThrow(TypeError);
        expect(() => s.regenerate({ owner: 'x'.repeat(257) })).toThrow(TypeError);
        expect(() => s.regenerate({ owner: 42 as unknown as string })).toThrow(TypeError);
        expect(s.status).toBe('unmodified');
      });
      expect(backend.writes).toBe(0);
    });

    it('a failing owner operation rejects with the BackendError and leaves this session as it was', async () => {
      const { backend, engine, login } = await setup();
      const owner = newOwner();
      const key = await login(owner);
      backend.failing.add('clearByOwner');
      backend.failing.add('listByOwner');
      const { cookie, session } = await simulate(engine, key, async (s) => {
        await expect(s.logoutEverywhere()).rejects.toBeInstanceOf(BackendError);
        await expect(s.listOwnSessions()).rejects.toBeInstanceOf(BackendError);
      });
      expect(session.status).toBe('unmodified');
      expect(cookie).toBeUndefined();
      backend.failing.clear();
      expect((await simulate(engine, key)).session.owner).toBe(owner);
    });
  });
}

describe('sessions by owner need the owners option', () => {
  const memory = new MemoryBackend();
  afterAll(() => memory.close());

  it('without owners: true, the owner methods throw a TypeError; owner is still readable', async () => {
    const engine = new SessionEngine<Data>(memory);
    await simulate(engine, undefined, (s) => {
      expect(s.owner).toBeUndefined();
      expect(() => s.regenerate({ owner: 'ann' })).toThrow(/owners: true/);
      expect(() => s.logoutEverywhere()).toThrow(/owners: true/);
      expect(() => s.listOwnSessions()).toThrow(/owners: true/);
      s.regenerate();
    });
  });

  it('owners: true on a backend without an owner index is a TypeError at setup; a bad value too', () => {
    expect(() => new SessionEngine(new InstrumentedBackend(memory), { owners: true })).toThrow(/listByOwner/);
    expect(() => new SessionEngine(new InstrumentedBackend(memory))).not.toThrow();
    expect(() => new SessionEngine(memory, { owners: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describeOwners('MemoryBackend', async (options) => new MemoryBackend(options));

describe.skipIf(postgresSkipReason !== undefined)(`PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const prefix = `sk_howner_${process.pid}_`;
  const pool = testPool(6);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  const table = () => uniqueTable('howner').replace(/^sk_howner_/, prefix);

  describeOwners('PostgresBackend', async (options) => {
    const backend = new PostgresBackend(pool, { table: table(), ...options });
    await backend.ensureSchema();
    return backend;
  });

  it("a table with only ocaml-session's columns: sessions work, a login as an owner fails with schema_outdated", async () => {
    const name = table();
    await pool.query(`CREATE TABLE "${name}" (session_key char(40), expire_date timestamp(2) with time zone, session_data text)`);
    const backend = new PostgresBackend(pool, { table: name });
    const engine = new SessionEngine<Data>(backend, { owners: true });
    const key = (await simulate(engine, undefined, (s) => s.set('a', 'x'))).cookie!.value!;
    expect((await simulate(engine, key)).session.get('a')).toBe('x');
    const context = await engine.load(`sid=${key}`);
    context.session.regenerate({ owner: 'ann' });
    await expect(context.commit()).rejects.toMatchObject({ name: 'BackendError', code: 'schema_outdated' });
    expect((await simulate(engine, key)).session.get('a')).toBe('x');
    await backend.close();
  });
});

// RedisBackend keeps sessions by owner too.
const redisKeepsOwners = supportsOwners(Object.create(RedisBackend.prototype) as Backend);
const redisSkip = redisSkipReason ?? (redisKeepsOwners ? undefined : 'RedisBackend keeps no sessions by owner yet');
describe.skipIf(redisSkip !== undefined)(`Redis${redisSkip ? ` (skipped: ${redisSkip})` : ''}`, () => {
  const redis = useTestRedis();
  describeOwners('RedisBackend', async (options) => {
    const backend = new RedisBackend(redis.client, { prefix: redis.prefix('howner'), ...options });
    if (!supportsOwners(backend)) throw new Error('RedisBackend keeps no sessions by owner');
    return backend;
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { expectPeriodWithin, stopwatch } from './period-checks.js';
import { DEFAULT_MAX_SESSIONS_PER_OWNER, digestKey, generateKey, isBackendError, isOwnerSessionLimitError, supportsEnumeration, supportsOwners, type Backend, type EnumerableBackend, type LiveSession, type GetResult, type OwnerIndexBackend, type OwnerLimitPolicy, type SessionEvent, type SessionEventListener } from '../index.js';

/** Options a factory must apply to the backend it makes (they come from the capabilities under test). */
export interface FactoryOptions {
  maxSessionsPerOwner?: number | false;
  onMaxSessionsPerOwner?: OwnerLimitPolicy;
  onEvent?: SessionEventListener;
}

/** Makes a fresh backend for one test; the suite closes it after the test. */
export type BackendFactory = (options?: FactoryOptions) => Promise<Backend>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Checks the period of a live session whose expiry was set to `givenSeconds` while the stopwatch ran. */
function expectPeriod(result: GetResult, givenSeconds: number, elapsedSeconds: () => number): void {
  expect(result.ok).toBe(true);
  if (result.ok) expectPeriodWithin(result.period, givenSeconds, elapsedSeconds);
}

const MALFORMED_KEYS = ['', 'a'.repeat(41), 'bad key', "x'; DROP TABLE session; --", 'caf\u00e9', 'nul\u0000', 'line\nbreak', '%41%42'];

/** Capabilities the backend under test leaves out, each with the reason printed beside the skipped cases. */
export interface ConformanceOptions {
  /** Why the owner capability (`OwnerIndexBackend`) is not tested; omit to test it. */
  ownersSkipReason?: string;
  /**
   * Why this store's schema predates `put` (PostgreSQL on ocaml-session's own
   * table, without a unique index on the key). `put` is then checked to
   * reject with a `BackendError` `schema_outdated` and store nothing, in place
   * of its other cases. Omit it for every store that can create sessions
   * under given keys.
   */
  putSchemaOutdated?: string;
  /** Why the enumeration capability (`EnumerableBackend`) is not tested; omit to test it. */
  enumerationSkipReason?: string;
}

/**
 * The contract of src/core/contract.ts, written once. Ports every case of
 * ocaml-session's `lib_test/test_session.ml`, then checks each row of the
 * semantics table. Every backend's test file calls this with a factory;
 * call it at the top level of a vitest test file (it declares `describe`
 * blocks, and closes each backend after its test).
 */
export function runBackendConformance(name: string, factory: BackendFactory, options: ConformanceOptions = {}): void {
  describe(`backend contract: ${name}`, () => {
    const opened: Backend[] = [];
    const create = async (options?: FactoryOptions) => {
      const backend = await factory(options);
      opened.push(backend);
      return backend;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((backend) => backend.close()));
    });

    describe('ported from ocaml-session lib_test/test_session.ml', () => {
      it('generate: default, zero and negative expiry give distinct keys without error', async () => {
        const backend = await create();
        const key1 = await backend.generate();
        const key2 = await backend.generate({ expiry: 0 });
        const key3 = await backend.generate({ expiry: -1 });
        expect(new Set([key1, key2, key3]).size).toBe(3);
      });

      it('clear: a new session, then the same key again', async () => {
        const backend = await create();
        const key = await backend.generate();
        await expect(backend.clear(key)).resolves.toBeUndefined();
        await expect(backend.clear(key)).resolves.toBeUndefined();
      });

      it('set: twice on a new session, the second value wins', async () => {
        const backend = await create();
        const key = await backend.generate();
        await backend.set(key, 'session data1');
        await backend.set(key, 'session data2');
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'session data2' });
      });

      it('get: garbage, expired, unset, set, cleared and expired-with-value keys', async () => {
        const backend = await create();
        const expiredUnset = await backend.generate({ expiry: -10 });
        expect(await backend.get('asdfjk')).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(expiredUnset)).toEqual({ ok: false, error: 'NotFound' });

        const key2 = await backend.generate();
        expect(await backend.get(key2)).toEqual({ ok: false, error: 'NotSet' });
        await backend.set(key2, 'data2');
        expect(await backend.get(key2)).toMatchObject({ ok: true, value: 'data2' });
        await backend.clear(key2);
        expect(await backend.get(key2)).toEqual({ ok: false, error: 'NotFound' });

        const expiredSet = await backend.generate({ expiry: -1000, value: 'data2' });
        expect(await backend.get(expiredSet)).toEqual({ ok: false, error: 'NotFound' });
      });
    });

    describe('contract semantics', () => {
      it('generate makes a 40-character base64url key, one week by default', async () => {
        const backend = await create();
        expect(backend.defaultPeriod()).toBe(604_800);
        const elapsed = stopwatch();
        const key = await backend.generate({ value: 'v' });
        expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
        const result = await backend.get(key);
        expect(result).toMatchObject({ ok: true, value: 'v' });
        expectPeriod(result, 604_800, elapsed);
      });

      it('1,000 concurrent generates give 1,000 distinct keys, each readable', async () => {
        const backend = await create();
        const keys = await Promise.all(Array.from({ length: 1000 }, (_, i) => backend.generate({ value: String(i) })));
        expect(new Set(keys).size).toBe(1000);
        const values = await Promise.all(keys.map((key) => backend.get(key)));
        values.forEach((result, i) => expect(result).toMatchObject({ ok: true, value: String(i) }));
      });

      it('generate with an expiry: period is whole seconds left', async () => {
        const backend = await create();
        const elapsed = stopwatch();
        const key = await backend.generate({ expiry: 100, value: 'x' });
        expectPeriod(await backend.get(key), 100, elapsed);
      });

      it('generate with expiry 0 returns a key whose session is already expired', async () => {
        const backend = await create();
        const key = await backend.generate({ expiry: 0, value: 'x' });
        expect(key).toMatch(/^[A-Za-z0-9_-]{40}$/);
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('an empty string is a value, not "not set"; Unicode round-trips', async () => {
        const backend = await create();
        const empty = await backend.generate({ value: '' });
        expect(await backend.get(empty)).toMatchObject({ ok: true, value: '' });
        const text = 'héllo 🌍 \u2028 "quotes" \\ <tag>';
        const key = await backend.generate();
        await backend.set(key, text);
        expect(await backend.get(key)).toMatchObject({ ok: true, value: text });
      });

      it('set restarts expiry: with the given expiry, or the default period', async () => {
        const backend = await create();
        const key = await backend.generate({ expiry: 10 });
        let elapsed = stopwatch();
        expect(await backend.set(key, 'a', { expiry: 1000 })).toBeUndefined();
        expectPeriod(await backend.get(key), 1000, elapsed);
        elapsed = stopwatch();
        await backend.set(key, 'b');
        const byDefault = await backend.get(key);
        expect(byDefault).toMatchObject({ ok: true, value: 'b' });
        expectPeriod(byDefault, 604_800, elapsed);
      });

      it('set with expiry <= 0 ends a live session', async () => {
        const backend = await create();
        const key = await backend.generate({ value: 'a' });
        await backend.set(key, 'b', { expiry: 0 });
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('set never creates a session for a key it has not generated', async () => {
        const backend = await create();
        const forged = generateKey();
        await backend.set(forged, 'adopted?');
        expect(await backend.get(forged)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('set never revives a cleared or expired session', async () => {
        const backend = await create();
        const cleared = await backend.generate({ value: 'a' });
        await backend.clear(cleared);
        await backend.set(cleared, 'b');
        expect(await backend.get(cleared)).toEqual({ ok: false, error: 'NotFound' });
        const expired = await backend.generate({ expiry: -5, value: 'a' });
        await backend.set(expired, 'b');
        expect(await backend.get(expired)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('clearing a key that never existed is not an error', async () => {
        const backend = await create();
        await expect(backend.clear(generateKey())).resolves.toBeUndefined();
      });

      it('setDefaultPeriod affects later operations only', async () => {
        const backend = await create();
        const elapsed = stopwatch();
        const before = await backend.generate({ value: 'a' });
        backend.setDefaultPeriod(50);
        expect(backend.defaultPeriod()).toBe(50);
        const after = await backend.generate({ value: 'b' });
        expectPeriod(await backend.get(before), 604_800, elapsed);
        expectPeriod(await backend.get(after), 50, elapsed);
        expect(() => backend.setDefaultPeriod(1.5)).toThrow(TypeError);
      });

      it('a session really expires: live at first, NotFound after its expiry', async () => {
        const backend = await create();
        // Both reads must come within the second the sessions live; a stalled
        // attempt (a busy machine) proves nothing either way and is tried again.
        let generated = '';
        let renewed = '';
        for (let attempt = 1; ; attempt++) {
          const elapsed = stopwatch();
          generated = await backend.generate({ expiry: 1, value: 'short' });
          renewed = await backend.generate({ value: 'long' });
          await backend.set(renewed, 'short too', { expiry: 1 });
          const reads = [await backend.get(generated), await backend.get(renewed)];
          if (reads.every((read) => read.ok) || elapsed() < 0.9 || attempt === 5) {
            expect(reads[0]).toMatchObject({ ok: true, value: 'short' });
            expect(reads[1]).toMatchObject({ ok: true, value: 'short too' });
            break;
          }
        }
        await sleep(2100);
        expect(await backend.get(generated)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(renewed)).toEqual({ ok: false, error: 'NotFound' });
        await backend.set(generated, 'revived?');
        expect(await backend.get(generated)).toEqual({ ok: false, error: 'NotFound' });
      });
    });

    describe('bad input', () => {
      it('a malformed key is NotFound for get and a no-op for set and clear', async () => {
        const backend = await create();
        for (const key of MALFORMED_KEYS) {
          expect(await backend.get(key), JSON.stringify(key)).toEqual({ ok: false, error: 'NotFound' });
          await expect(backend.set(key, 'v')).resolves.toBeUndefined();
          await expect(backend.clear(key)).resolves.toBeUndefined();
        }
      });

      it('a key that is not a string is a TypeError', async () => {
        const backend = await create();
        for (const key of [undefined, null, 42, {}, ['a']] as unknown as string[]) {
          await expect(backend.get(key)).rejects.toThrow(TypeError);
          await expect(backend.set(key, 'v')).rejects.toThrow(TypeError);
          await expect(backend.clear(key)).rejects.toThrow(TypeError);
        }
      });

      it('an unstorable value is a TypeError and nothing is written', async () => {
        const backend = await create();
        const key = await backend.generate({ value: 'kept' });
        const unstorable = [42, null, undefined, {}, 'nul\u0000byte', 'lone \ud800 surrogate', 'x'.repeat(1_048_577)] as unknown as string[];
        for (const value of unstorable) {
          await expect(backend.set(key, value)).rejects.toThrow(TypeError);
          // An omitted value means "not set" for generate, so undefined is valid there.
          if (value !== undefined) await expect(backend.generate({ value })).rejects.toThrow(TypeError);
        }
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'kept' });
      });

      it('a value of exactly maxValueBytes is stored', async () => {
        const backend = await create();
        const key = await backend.generate();
        const value = 'é'.repeat(1_048_576 / 2);
        await backend.set(key, value);
        expect(await backend.get(key)).toMatchObject({ ok: true, value });
        await expect(backend.set(key, value + 'x')).rejects.toThrow(TypeError);
      });

      it('an expiry that is not a whole number is a TypeError and nothing is written', async () => {
        const backend = await create();
        const key = await backend.generate({ value: 'kept' });
        for (const expiry of [Number.NaN, Infinity, -Infinity, 1.5, '10', 2 ** 60] as unknown as number[]) {
          await expect(backend.set(key, 'changed', { expiry })).rejects.toThrow(TypeError);
          await expect(backend.generate({ expiry })).rejects.toThrow(TypeError);
        }
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'kept' });
      });
    });

    describe('events', () => {
      it('reports created sessions by digest, never by key', async () => {
        const events: SessionEvent[] = [];
        const backend = await create({ onEvent: (event) => events.push(event) });
        const key = await backend.generate({ value: 'v' });
        await backend.generate({ expiry: 0 });
        await backend.get(key);
        await backend.set(key, 'w');
        await backend.clear(key);
        expect(events.filter((event) => event.type === 'created')).toEqual([{ type: 'created', store: expect.any(String), keyDigest: digestKey(key) }]);
        expect(JSON.stringify(events)).not.toContain(key);
      });

      it('a listener that throws does not break the operation', async () => {
        const backend = await create({
          onEvent: () => {
            throw new Error('faulty listener');
          },
        });
        const key = await backend.generate({ value: 'v' });
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'v' });
      });
    });

    describe('compare-and-set', () => {
      it('replaces only the expected value, never creates, and keeps 100 parallel increments', async () => {
        const backend = await create();
        const key = await backend.generate();
        expect(await backend.compareAndSet(key, 'wrong', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, null, '0')).toBe('ok');
        expect(await backend.compareAndSet(key, null, 'x')).toBe('conflict');
        // A value of the same length, a prefix, and a value holding '=' are compared whole.
        expect(await backend.compareAndSet(key, '1', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, '', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, '0', 'a=b')).toBe('ok');
        expect(await backend.compareAndSet(key, 'a=c', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, 'a=', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, 'a=b', '0')).toBe('ok');
        expect(await backend.compareAndSet(generateKey(), null, 'x')).toBe('NotFound');
        expect(await backend.compareAndSet('not a key', null, 'x')).toBe('NotFound');
        expect(await backend.get(key)).toMatchObject({ ok: true, value: '0' });

        const increment = async () => {
          for (;;) {
            const current = await backend.get(key);
            if (!current.ok) throw new Error(`session lost: ${current.error}`);
            const answer = await backend.compareAndSet(key, current.value, String(Number(current.value) + 1));
            if (answer === 'ok') return;
            if (answer === 'NotFound') throw new Error('session lost');
          }
        };
        await Promise.all(Array.from({ length: 100 }, increment));
        expect(await backend.get(key)).toMatchObject({ ok: true, value: '100' });
      });

      it('many compare-and-sets at once each get their own answer', async () => {
        const backend = await create();
        const keys = await Promise.all(Array.from({ length: 60 }, (_, i) => backend.generate({ value: `v${i}` })));
        const answers = await Promise.all([
          ...keys.map((key, i) => backend.compareAndSet(key, i % 3 === 0 ? 'stale' : `v${i}`, `w${i}`)),
          backend.compareAndSet(generateKey(), null, 'nobody'),
        ]);
        expect(answers).toEqual([...keys.map((_, i) => (i % 3 === 0 ? 'conflict' : 'ok')), 'NotFound']);
        const values = await Promise.all(keys.map((key) => backend.get(key)));
        values.forEach((result, i) => expect(result).toMatchObject({ ok: true, value: i % 3 === 0 ? `v${i}` : `w${i}` }));
      });
    });

    // A key made elsewhere: express-session's 32-character sids use this alphabet.
    const foreignKey = () => generateKey().slice(0, 32);
    const putSchemaOutdated = options.putSchemaOutdated;
    describe.runIf(putSchemaOutdated !== undefined)(`put on a schema that predates it (${putSchemaOutdated})`, () => {
      it('put rejects with a BackendError schema_outdated and stores nothing', async () => {
        const backend = await create();
        const key = foreignKey();
        const failure: unknown = await backend.put(key, 'v').then(() => undefined, (error: unknown) => error);
        expect(isBackendError(failure) && failure.code).toBe('schema_outdated');
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });
    });

    describe.runIf(putSchemaOutdated === undefined)("put (create or replace under a caller's key)", () => {
      const putting = create;

      it('put creates a session under the given key, with the given expiry or the default period', async () => {
        const backend = await putting();
        const key = foreignKey();
        let elapsed = stopwatch();
        await backend.put(key, 'created', { expiry: 1000 });
        expectPeriod(await backend.get(key), 1000, elapsed);
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'created' });
        const other = foreignKey();
        elapsed = stopwatch();
        await backend.put(other, '');
        const byDefault = await backend.get(other);
        expect(byDefault).toMatchObject({ ok: true, value: '' });
        expectPeriod(byDefault, 604_800, elapsed);
      });

      it('put replaces a live session and restarts its expiry; it revives a cleared or expired key', async () => {
        const backend = await putting();
        const key = await backend.generate({ expiry: 10, value: 'old' });
        const elapsed = stopwatch();
        await backend.put(key, 'new', { expiry: 2000 });
        expectPeriod(await backend.get(key), 2000, elapsed);
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'new' });

        const expired = await backend.generate({ expiry: -1, value: 'gone' });
        await backend.put(expired, 'back');
        expect(await backend.get(expired)).toMatchObject({ ok: true, value: 'back' });
        await backend.clear(expired);
        await backend.put(expired, 'again');
        expect(await backend.get(expired)).toMatchObject({ ok: true, value: 'again' });
      });

      it('after a put, get, set, compareAndSet and clear behave as on a generated session', async () => {
        const backend = await putting();
        const key = foreignKey();
        await backend.put(key, 'a');
        await backend.set(key, 'b', { expiry: 500 });
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'b' });
        expect(await backend.compareAndSet(key, 'a', 'x')).toBe('conflict');
        expect(await backend.compareAndSet(key, 'b', 'c')).toBe('ok');
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'c' });
        await backend.clear(key);
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
        await backend.set(key, 'not revived');
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('put with expiry <= 0 removes the session', async () => {
        const backend = await putting();
        const key = foreignKey();
        await backend.put(key, 'live');
        await backend.put(key, 'ended', { expiry: 0 });
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
        const never = foreignKey();
        await backend.put(never, 'never', { expiry: -5 });
        expect(await backend.get(never)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('parallel puts of one key: the last one issued wins; of many keys: each keeps its own', async () => {
        const backend = await putting();
        const key = foreignKey();
        await Promise.all(['1', '2', '3'].map((value) => backend.put(key, value)));
        expect(await backend.get(key)).toMatchObject({ ok: true, value: '3' });
        const keys = Array.from({ length: 50 }, foreignKey);
        await Promise.all(keys.map((k, i) => backend.put(k, `v${i}`)));
        const values = await Promise.all(keys.map((k) => backend.get(k)));
        values.forEach((result, i) => expect(result).toMatchObject({ ok: true, value: `v${i}` }));
      });

      it('a malformed key, an unstorable value or a bad expiry is a TypeError and nothing is written', async () => {
        const backend = await putting();
        for (const key of [...MALFORMED_KEYS, undefined, null, 42] as unknown as string[]) {
          await expect(backend.put(key, 'v'), JSON.stringify(key)).rejects.toThrow(TypeError);
        }
        const key = foreignKey();
        for (const value of [42, null, 'nul\u0000byte', 'lone \ud800 surrogate', 'x'.repeat(1_048_577)] as unknown as string[]) {
          await expect(backend.put(key, value)).rejects.toThrow(TypeError);
        }
        for (const expiry of [Number.NaN, 1.5, '10'] as unknown as number[]) {
          await expect(backend.put(key, 'v', { expiry })).rejects.toThrow(TypeError);
        }
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('set still never creates, beside put', async () => {
        const backend = await putting();
        const key = foreignKey();
        await backend.set(key, 'no');
        expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
      });

      it.skipIf(options.ownersSkipReason !== undefined)('a put over an owned session leaves it without owner', async () => {
        const backend = await putting();
        if (!supportsOwners(backend)) throw new Error(`${name} must keep sessions by owner`);
        const key = await backend.generate({ owner: 'put-owner', value: 'owned' });
        await backend.put(key, 'ownerless');
        expect(await backend.listByOwner('put-owner')).toEqual([]);
        expect(await backend.clearByOwner('put-owner')).toBe(0);
        expect(await backend.get(key)).toMatchObject({ ok: true, value: 'ownerless' });
      });
    });

    describe.skipIf(options.enumerationSkipReason !== undefined)(`enumeration capability (count, list, clear the whole store)${options.enumerationSkipReason ? ` — skipped: ${options.enumerationSkipReason}` : ''}`, () => {
      const enumerable = async (options?: FactoryOptions): Promise<EnumerableBackend> => {
        const backend = await create(options);
        if (!supportsEnumeration(backend)) throw new Error(`${name} must offer countLive/liveSessions/clearAll`);
        return backend;
      };
      const listed = async (backend: EnumerableBackend): Promise<LiveSession[]> => {
        const sessions: LiveSession[] = [];
        for await (const session of backend.liveSessions()) sessions.push(session);
        return sessions;
      };
      const storedKeyOf = (backend: EnumerableBackend, key: string) => (backend.hashKeys ? digestKey(key) : key);

      it('an empty store counts 0, lists nothing and clears 0', async () => {
        const backend = await enumerable();
        expect(await backend.countLive()).toBe(0);
        expect(await listed(backend)).toEqual([]);
        expect(await backend.clearAll()).toBe(0);
      });

      it('counts and lists exactly the live sessions, by stored key (never a raw key when hashed), with value and seconds left', async () => {
        const backend = await enumerable();
        const elapsed = stopwatch();
        const withValue = await backend.generate({ value: 'v1', expiry: 1000 });
        const notSet = await backend.generate({ expiry: 2000 });
        const cleared = await backend.generate({ value: 'gone' });
        await backend.generate({ value: 'born expired', expiry: -1 });
        await backend.clear(cleared);
        expect(await backend.countLive()).toBe(2);
        const sessions = await listed(backend);
        const byKey = new Map(sessions.map((session) => [session.storedKey, session]));
        expect([...byKey.keys()].sort()).toEqual([storedKeyOf(backend, withValue), storedKeyOf(backend, notSet)].sort());
        expect(byKey.get(storedKeyOf(backend, withValue))?.value).toBe('v1');
        expect(byKey.get(storedKeyOf(backend, notSet))?.value).toBeNull();
        expectPeriodWithin(byKey.get(storedKeyOf(backend, withValue))!.expiresInSeconds, 1000, elapsed);
        expectPeriodWithin(byKey.get(storedKeyOf(backend, notSet))!.expiresInSeconds, 2000, elapsed);
        if (backend.hashKeys) for (const session of sessions) expect([withValue, notSet]).not.toContain(session.storedKey);
      });

      it('a session that expires leaves the count and the listing', async () => {
        const backend = await enumerable();
        const lasting = await backend.generate({ value: 'stays' });
        await backend.generate({ value: 'short', expiry: 1 });
        expect(await backend.countLive()).toBe(2);
        await sleep(2100);
        expect(await backend.countLive()).toBe(1);
        expect((await listed(backend)).map((session) => session.storedKey)).toEqual([storedKeyOf(backend, lasting)]);
      });

      it('lists every session exactly once across pages, and clearAll removes them all in batches', async () => {
        const backend = await enumerable();
        const keys: string[] = [];
        for (let start = 0; start < 1100; start += 100) {
          keys.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => backend.generate({ value: `v${start + i}` })))));
        }
        expect(await backend.countLive()).toBe(1100);
        const sessions = await listed(backend);
        expect(sessions).toHaveLength(1100);
        expect(new Set(sessions.map((session) => session.storedKey))).toEqual(new Set(keys.map((key) => storedKeyOf(backend, key))));
        expect(await backend.clearAll()).toBe(1100);
        expect(await backend.countLive()).toBe(0);
        expect(await listed(backend)).toEqual([]);
        const [first, last] = [keys[0]!, keys[1099]!];
        expect(await backend.get(first)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(last)).toEqual({ ok: false, error: 'NotFound' });
      });

      it('clearAll reports what it removed as a pruned event', async () => {
        const events: SessionEvent[] = [];
        const backend = await enumerable({ onEvent: (event) => events.push(event) });
        await backend.generate();
        await backend.generate({ value: 'v' });
        await backend.clearAll();
        expect(events.filter((event) => event.type === 'pruned')).toEqual([
          { type: 'pruned', store: expect.any(String), deletedCount: 2, durationMs: expect.any(Number) },
        ]);
      });

      it('clearAll leaves the store usable and another store of the same kind untouched', async () => {
        const backend = await enumerable();
        const neighbour = await enumerable();
        const theirs = await neighbour.generate({ value: 'theirs' });
        await backend.generate({ value: 'mine' });
        expect(await backend.clearAll()).toBe(1);
        expect(await neighbour.get(theirs)).toMatchObject({ ok: true, value: 'theirs' });
        expect(await neighbour.countLive()).toBe(1);
        const again = await backend.generate({ value: 'again' });
        expect(await backend.get(again)).toMatchObject({ ok: true, value: 'again' });
        expect(await backend.countLive()).toBe(1);
      });

      it.skipIf(options.ownersSkipReason !== undefined)('owned sessions are counted and listed once, owner indexes are not; clearAll ends them and their owners\' lists', async () => {
        const backend = await enumerable();
        if (!supportsOwners(backend)) throw new Error(`${name} must keep sessions by owner`);
        const owned = await backend.generate({ owner: 'ada', value: 'a' });
        await backend.generate({ owner: 'ada', value: 'b' });
        await backend.generate({ value: 'c' });
        expect(await backend.countLive()).toBe(3);
        expect((await listed(backend)).map((session) => session.value).sort()).toEqual(['a', 'b', 'c']);
        expect(await backend.clearAll()).toBe(3);
        expect(await backend.listByOwner('ada')).toEqual([]);
        expect(await backend.get(owned)).toEqual({ ok: false, error: 'NotFound' });
        await backend.generate({ owner: 'ada', value: 'new' });
        expect(await backend.listByOwner('ada')).toHaveLength(1);
      });
    });

    describe.skipIf(options.ownersSkipReason !== undefined)(`owner capability (log out everywhere)${options.ownersSkipReason ? ` — skipped: ${options.ownersSkipReason}` : ''}`, () => {
      const owned = async (options?: FactoryOptions): Promise<OwnerIndexBackend> => {
        const backend = await create(options);
        if (!supportsOwners(backend)) throw new Error(`${name} must keep sessions by owner`);
        return backend;
      };

      it('lists an owner\'s live sessions oldest first, as digests with expiry and creation time', async () => {
        const backend = await owned();
        const elapsed = stopwatch();
        const first = await backend.generate({ owner: 'ada', value: '1', expiry: 1000 });
        const second = await backend.generate({ owner: 'ada', value: '2' });
        await backend.generate({ owner: 'bob', value: '3' });
        await backend.generate({ value: 'nobody' });
        await backend.generate({ owner: 'ada', expiry: 0 });
        const listed = await backend.listByOwner('ada');
        expect(listed.map((session) => session.keyDigest).sort()).toEqual([digestKey(first), digestKey(second)].sort());
        const firstListed = listed.find((session) => session.keyDigest === digestKey(first))!;
        expectPeriodWithin(firstListed.expiresInSeconds, 1000, elapsed);
        for (const session of listed) {
          expect(session.createdAt).toBeInstanceOf(Date);
          expect(Math.abs(session.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
          // A digest is never a usable key.
          expect(await backend.get(session.keyDigest)).toEqual({ ok: false, error: 'NotFound' });
        }
        expect(await backend.listByOwner('nobody at all')).toEqual([]);
      });

      it('lists each session with its current value, a long one whole and a not-set one as null', async () => {
        const backend = await owned();
        const long = 'v'.repeat(5000);
        const written = await backend.generate({ owner: 'ada', value: 'first' });
        const big = await backend.generate({ owner: 'ada', value: long });
        const unset = await backend.generate({ owner: 'ada' });
        await backend.set(written, 'second');
        const values = new Map((await backend.listByOwner('ada')).map((session) => [session.keyDigest, session.value]));
        expect(values).toEqual(new Map([[digestKey(written), 'second'], [digestKey(big), long], [digestKey(unset), null]]));
      });

      it('clearByOwner removes every session of the owner but the one to keep, and no one else\'s', async () => {
        const backend = await owned();
        const current = await backend.generate({ owner: 'ada', value: 'this device' });
        const others = await Promise.all([1, 2, 3].map((i) => backend.generate({ owner: 'ada', value: `device ${i}` })));
        const bob = await backend.generate({ owner: 'bob', value: 'bob' });
        expect(await backend.clearByOwner('ada', { except: current })).toBe(3);
        expect(await backend.get(current)).toMatchObject({ ok: true, value: 'this device' });
        for (const key of others) expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(bob)).toMatchObject({ ok: true, value: 'bob' });
        expect((await backend.listByOwner('ada')).map((session) => session.keyDigest)).toEqual([digestKey(current)]);
        expect(await backend.clearByOwner('ada')).toBe(1);
        expect(await backend.get(current)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.clearByOwner('ada')).toBe(0);
      });

      it('clearByOwner reports what it removed as a pruned event', async () => {
        const events: SessionEvent[] = [];
        const backend = await owned({ onEvent: (event) => events.push(event) });
        await backend.generate({ owner: 'ada' });
        await backend.generate({ owner: 'ada' });
        await backend.clearByOwner('ada');
        expect(events.filter((event) => event.type === 'pruned')).toEqual([
          { type: 'pruned', store: expect.any(String), deletedCount: 2, durationMs: expect.any(Number) },
        ]);
      });

      it('cleared and expired sessions leave the owner\'s list', async () => {
        const backend = await owned();
        const cleared = await backend.generate({ owner: 'ada' });
        const kept = await backend.generate({ owner: 'ada' });
        await backend.generate({ owner: 'ada', expiry: 1 });
        await backend.clear(cleared);
        await sleep(2100);
        expect((await backend.listByOwner('ada')).map((session) => session.keyDigest)).toEqual([digestKey(kept)]);
      });

      it('maxSessionsPerOwner: a new session beyond the limit removes the oldest', async () => {
        const backend = await owned({ maxSessionsPerOwner: 2 });
        const oldest = await backend.generate({ owner: 'ada', value: 'a' });
        await sleep(30);
        const middle = await backend.generate({ owner: 'ada', value: 'b' });
        await sleep(30);
        const newest = await backend.generate({ owner: 'ada', value: 'c' });
        const bob = await backend.generate({ owner: 'bob', value: 'd' });
        expect(await backend.get(oldest)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(middle)).toMatchObject({ ok: true, value: 'b' });
        expect(await backend.get(newest)).toMatchObject({ ok: true, value: 'c' });
        expect(await backend.get(bob)).toMatchObject({ ok: true, value: 'd' });
        expect(await backend.listByOwner('ada')).toHaveLength(2);
      });

      it(`maxSessionsPerOwner is ${DEFAULT_MAX_SESSIONS_PER_OWNER} by default: the login beyond it ends the oldest; false turns it off`, async () => {
        const backend = await owned();
        const keys = [await backend.generate({ owner: 'ada', value: '0' })];
        // Creation times may have a millisecond's resolution: make the first one the oldest beyond doubt.
        await sleep(30);
        for (let i = 1; i <= DEFAULT_MAX_SESSIONS_PER_OWNER; i++) keys.push(await backend.generate({ owner: 'ada', value: String(i) }));
        expect(await backend.listByOwner('ada')).toHaveLength(DEFAULT_MAX_SESSIONS_PER_OWNER);
        expect(await backend.get(keys[0]!)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(keys.at(-1)!)).toMatchObject({ ok: true, value: String(DEFAULT_MAX_SESSIONS_PER_OWNER) });
        const unlimited = await owned({ maxSessionsPerOwner: false });
        await Promise.all(Array.from({ length: DEFAULT_MAX_SESSIONS_PER_OWNER + 5 }, (_, i) => unlimited.generate({ owner: 'ada', value: String(i) })));
        expect(await unlimited.listByOwner('ada')).toHaveLength(DEFAULT_MAX_SESSIONS_PER_OWNER + 5);
      });

      it('maxSessionsPerOwner other than a whole number >= 1 or false, and onMaxSessionsPerOwner other than its two policies, are TypeErrors', async () => {
        for (const maxSessionsPerOwner of [0, -1, 1.5, Number.NaN, Infinity, true, '3'] as unknown as number[]) {
          await expect(create({ maxSessionsPerOwner }), String(maxSessionsPerOwner)).rejects.toThrow(TypeError);
        }
        await expect(create({ onMaxSessionsPerOwner: 'end-newest' as OwnerLimitPolicy })).rejects.toThrow(TypeError);
      });

      it("onMaxSessionsPerOwner 'refuse': a login at the limit rejects with OwnerSessionLimitError, stores nothing and leaves the owner's sessions as they were", async () => {
        const backend = await owned({ maxSessionsPerOwner: 2, onMaxSessionsPerOwner: 'refuse' });
        await backend.generate({ owner: 'ada', value: 'expires', expiry: 1 });
        const first = await backend.generate({ owner: 'ada', value: 'a' });
        await sleep(2100);
        // The expired session no longer takes a place.
        const second = await backend.generate({ owner: 'ada', value: 'b' });
        const before = (await backend.listByOwner('ada')).map((session) => session.keyDigest).sort();
        const refused = await backend.generate({ owner: 'ada', value: 'c' }).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(isOwnerSessionLimitError(refused), String(refused)).toBe(true);
        expect(refused).toMatchObject({ name: 'OwnerSessionLimitError', code: 'owner_session_limit', maxSessionsPerOwner: 2 });
        expect(isBackendError(refused)).toBe(false);
        expect((await backend.listByOwner('ada')).map((session) => session.keyDigest).sort()).toEqual(before);
        expect(await backend.get(first)).toMatchObject({ ok: true, value: 'a' });
        expect(await backend.get(second)).toMatchObject({ ok: true, value: 'b' });
        // Another owner, and sessions without owner, are not limited by ada's.
        expect(await backend.get(await backend.generate({ owner: 'bob', value: 'd' }))).toMatchObject({ ok: true, value: 'd' });
        expect(await backend.get(await backend.generate({ value: 'e' }))).toMatchObject({ ok: true, value: 'e' });
        // A session that ends frees its place.
        await backend.clear(first);
        const third = await backend.generate({ owner: 'ada', value: 'f' });
        expect((await backend.listByOwner('ada')).map((session) => session.keyDigest).sort()).toEqual([digestKey(second), digestKey(third)].sort());
      });

      for (const policy of ['end-oldest', 'refuse'] as const) {
        it(`${policy}: parallel logins of one owner near the limit never leave more than the limit live`, async () => {
          const limit = 3;
          const backend = await owned({ maxSessionsPerOwner: limit, onMaxSessionsPerOwner: policy });
          const existing = await backend.generate({ owner: 'ada', value: 'existing' });
          // "Oldest" is to the store clock's millisecond: make the session already there the oldest beyond doubt.
          await sleep(30);
          const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => backend.generate({ owner: 'ada', value: `login ${i}` })));
          const stored = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
          for (const outcome of outcomes) if (outcome.status === 'rejected') expect(isOwnerSessionLimitError(outcome.reason), String(outcome.reason)).toBe(true);
          const listed = (await backend.listByOwner('ada')).map((session) => session.keyDigest);
          expect(listed).toHaveLength(limit);
          const live = (await Promise.all([existing, ...stored].map(async (key) => ((await backend.get(key)).ok ? [digestKey(key)] : [])))).flat();
          expect(live.sort()).toEqual([...listed].sort());
          if (policy === 'end-oldest') {
            expect(stored).toHaveLength(12);
            expect(live).not.toContain(digestKey(existing));
          } else {
            // Exactly the places that were free were taken; the session already there is untouched.
            expect(stored).toHaveLength(limit - 1);
            expect(await backend.get(existing)).toMatchObject({ ok: true, value: 'existing' });
          }
        });
      }

      it("clearOwnedSession ends exactly the owner's session named by its digest; another owner's, an unknown or malformed digest or a raw key removes nothing", async () => {
        const backend = await owned();
        const laptop = await backend.generate({ value: 'laptop', owner: 'ada' });
        const phone = await backend.generate({ value: 'phone', owner: 'ada' });
        const bob = await backend.generate({ value: 'bob', owner: 'bob' });
        for (const digest of [digestKey(bob), digestKey(generateKey()), '', 'not a digest!', 'x'.repeat(41), laptop]) {
          expect(await backend.clearOwnedSession('ada', digest), digest).toBe(false);
        }
        expect(await backend.clearOwnedSession('ada', digestKey(phone))).toBe(true);
        expect(await backend.get(phone)).toEqual({ ok: false, error: 'NotFound' });
        expect(await backend.get(laptop)).toMatchObject({ ok: true, value: 'laptop' });
        expect(await backend.get(bob)).toMatchObject({ ok: true, value: 'bob' });
        expect((await backend.listByOwner('ada')).map((session) => session.keyDigest)).toEqual([digestKey(laptop)]);
        expect(await backend.clearOwnedSession('ada', digestKey(phone))).toBe(false);
        await expect(backend.clearOwnedSession('ada', 42 as never)).rejects.toThrow(TypeError);
        await expect(backend.clearOwnedSession('', digestKey(laptop))).rejects.toThrow(TypeError);
      });

      it('an owner that is not 1 to 256 well-formed characters is a TypeError, nothing written', async () => {
        const backend = await owned();
        for (const owner of ['', 'x'.repeat(257), 'nul\u0000', 'lone \ud800', 42, null] as unknown as string[]) {
          await expect(backend.generate({ owner, value: 'v' })).rejects.toThrow(TypeError);
          await expect(backend.listByOwner(owner)).rejects.toThrow(TypeError);
          await expect(backend.clearByOwner(owner)).rejects.toThrow(TypeError);
        }
        expect(await backend.listByOwner('x'.repeat(256))).toEqual([]);
      });
    });
  });
}

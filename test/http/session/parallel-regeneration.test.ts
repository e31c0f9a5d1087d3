import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend, type OwnerIndexBackend } from '../../../src/index.js';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { SessionEngine, SessionRegeneratedError, type HeaderPair, type RegenerateOptions } from '../../../src/http/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../../support/redis-env.js';
import { simulate } from '../support/simulate.js';

interface Data {
  user?: string;
  cart?: string;
  attempt?: number;
}

type Store = OwnerIndexBackend;
const PARALLEL = 20;
/** How long the tombstone of a claimed key lives, in seconds: a loser later than this finds no key at all. */
const TOMBSTONE_SECONDS = 10;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function cookieKey(pairs: HeaderPair[]): string | undefined {
  const line = pairs.find(([name]) => name === 'Set-Cookie');
  return line === undefined ? undefined : /^sid=([^;]*)/.exec(line[1])?.[1];
}

/** Twenty requests with one cookie, all loaded before any commits (as parallel logins are), each regenerating. */
async function raceRegenerations(engine: SessionEngine<Data>, key: string, options: RegenerateOptions) {
  const contexts = await Promise.all(Array.from({ length: PARALLEL }, () => engine.load(`sid=${key}`)));
  contexts.forEach(({ session }, attempt) => {
    session.regenerate(options);
    session.set('attempt', attempt);
  });
  const settled = await Promise.allSettled(contexts.map((context) => context.commit()));
  const won = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const lost = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  return { won, lost };
}

function describeParallelLogins(storeName: string, makeStore: () => Promise<Store>): void {
  describe(`parallel regenerations of one session on ${storeName}`, () => {
    const opened: Store[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });
    let owners = 0;
    const newOwner = () => `racer-${process.pid}-${++owners}-${Math.random().toString(36).slice(2, 8)}`;

    async function setup() {
      const store = await makeStore();
      opened.push(store);
      return { store, engine: new SessionEngine<Data>(store, { owners: true }) };
    }

    it(`${PARALLEL} parallel logins (regenerate({ owner })) on one anonymous cookie leave exactly one live session; the others reject and send no cookie`, async () => {
      const { store, engine } = await setup();
      const owner = newOwner();
      const anonymous = (await simulate(engine, undefined, (s) => s.set('cart', 'two books'))).cookie!.value!;
      const { won, lost } = await raceRegenerations(engine, anonymous, { owner });

      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(PARALLEL - 1);
      for (const error of lost) expect(error).toBeInstanceOf(SessionRegeneratedError);
      expect(await store.listByOwner(owner)).toHaveLength(1);
      expect(await store.get(anonymous)).toEqual({ ok: false, error: 'NotFound' });

      const survivor = cookieKey(won[0]!)!;
      const next = await simulate(engine, survivor, (s) => s.set('user', 'ann'));
      expect(next.session.owner).toBe(owner);
      expect(next.session.get('cart')).toBe('two books');
      expect(next.cookie?.value).toBe(survivor);
      expect((await simulate(engine, survivor)).session.data).toMatchObject({ cart: 'two books', user: 'ann' });
    });

    it(`${PARALLEL} parallel regenerate() of a logged-in session leave one live copy, not ${PARALLEL}`, async () => {
      const { store, engine } = await setup();
      const owner = newOwner();
      const loggedIn = (await simulate(engine, undefined, (s) => s.regenerate({ owner }))).cookie!.value!;
      const { won, lost } = await raceRegenerations(engine, loggedIn, {});
      expect(won).toHaveLength(1);
      expect(lost.every((error) => error instanceof SessionRegeneratedError)).toBe(true);
      const live = await store.listByOwner(owner);
      expect(live).toHaveLength(1);
      expect((await simulate(engine, cookieKey(won[0]!)!)).session.owner).toBe(owner);
    });

    it(`${PARALLEL} parallel logins that each read the session, wait 300 ms (a password check), then regenerate({ owner }) leave one logged-in session`, async () => {
      const { store, engine } = await setup();
      const owner = newOwner();
      const anonymous = (await simulate(engine, undefined, (s) => s.set('cart', 'two books'))).cookie!.value!;
      const settled = await Promise.allSettled(
        Array.from({ length: PARALLEL }, async (_, attempt) => {
          const context = await engine.load(`sid=${anonymous}`);
          expect(context.session.get('cart')).toBe('two books');
          // The password checks end over ~200 ms, as they do under load: later logins reach their commit after the first finished.
          await sleep(300 + attempt * 10);
          context.session.regenerate({ owner });
          context.session.set('attempt', attempt);
          return context.commit();
        }),
      );
      const won = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const lost = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(PARALLEL - 1);
      for (const error of lost) expect(error).toBeInstanceOf(SessionRegeneratedError);
      expect(await store.listByOwner(owner)).toHaveLength(1);
      expect((await simulate(engine, cookieKey(won[0]!)!)).session.data).toMatchObject({ cart: 'two books' });
    });

    it(`a loser that reaches its commit 2 s or ${TOMBSTONE_SECONDS + 2} s after the winner (past the tombstone's ${TOMBSTONE_SECONDS} s) creates nothing and sends no cookie`, { timeout: (TOMBSTONE_SECONDS + 30) * 1000 }, async () => {
      const { store, engine } = await setup();
      const owner = newOwner();
      const anonymous = (await simulate(engine, undefined, (s) => s.set('cart', 'two books'))).cookie!.value!;
      const [winner, soon, late] = await Promise.all([0, 1, 2].map(() => engine.load(`sid=${anonymous}`)));
      for (const { session } of [winner!, soon!, late!]) session.regenerate({ owner });
      const survivor = cookieKey(await winner!.commit())!;
      const lateness = async (context: typeof winner, delayMs: number) => {
        await sleep(delayMs);
        return context!.commit();
      };
      const [soonResult, lateResult] = await Promise.allSettled([lateness(soon, 2000), lateness(late, (TOMBSTONE_SECONDS + 2) * 1000)]);
      for (const result of [soonResult!, lateResult!]) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionRegeneratedError);
      }
      const live = await store.listByOwner(owner);
      expect(live).toHaveLength(1);
      expect((await simulate(engine, survivor)).session.data).toMatchObject({ cart: 'two books' });
    });

    it('with keepData: false the one winner starts empty and the old session is gone', async () => {
      const { store, engine } = await setup();
      const owner = newOwner();
      const key = (await simulate(engine, undefined, (s) => s.set('cart', 'x'))).cookie!.value!;
      const { won } = await raceRegenerations(engine, key, { owner, keepData: false });
      expect(won).toHaveLength(1);
      expect(await store.listByOwner(owner)).toHaveLength(1);
      const data = (await simulate(engine, cookieKey(won[0]!)!)).session.data;
      expect(Object.keys(data)).toEqual(['attempt']);
    });
  });
}

describeParallelLogins('MemoryBackend', async () => new MemoryBackend());

describe.skipIf(postgresSkipReason !== undefined)(`PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const prefix = `sk_hrace_${process.pid}_`;
  const pool = testPool(10);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  describeParallelLogins('PostgresBackend', async () => {
    const backend = new PostgresBackend(pool, { table: uniqueTable('hrace').replace(/^sk_hrace_/, prefix) });
    await backend.ensureSchema();
    return backend;
  });
});

describe.skipIf(redisSkipReason !== undefined)(`Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describeParallelLogins('RedisBackend', async () => new RedisBackend(redis.client, { prefix: redis.prefix('hrace') }) as unknown as Store);
});

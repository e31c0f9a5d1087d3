// clearOwnedSession(owner, keyDigest): ending one device of a user by the
// digest listByOwner reports, on every backend that keeps sessions by owner,
// keys hashed at rest and not.
import { afterAll, describe, expect, it } from 'vitest';
import { digestKey, MemoryBackend, supportsOwners, type OwnerIndexBackend } from '../../src/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';

type Factory = (hashKeys: boolean) => Promise<OwnerIndexBackend>;

function describeRemoval(name: string, make: Factory): void {
  describe.each([true, false])(`${name}, hashKeys: %s`, (hashKeys) => {
    it("ends exactly the named session of the owner; the owner's others and other owners' stay", async () => {
      const backend = await make(hashKeys);
      try {
        expect(supportsOwners(backend)).toBe(true);
        const laptop = await backend.generate({ value: 'laptop', owner: 'ann' });
        const phone = await backend.generate({ value: 'phone', owner: 'ann' });
        const bob = await backend.generate({ value: 'bob', owner: 'bob' });
        const listed = await backend.listByOwner('ann');
        expect(listed.map((s) => s.keyDigest).sort()).toEqual([digestKey(laptop), digestKey(phone)].sort());

        expect(await backend.clearOwnedSession('ann', digestKey(phone))).toBe(true);
        expect(await backend.get(phone)).toMatchObject({ ok: false });
        expect(await backend.get(laptop)).toMatchObject({ ok: true, value: 'laptop' });
        expect((await backend.listByOwner('ann')).map((s) => s.keyDigest)).toEqual([digestKey(laptop)]);
        // Again: nothing left to end.
        expect(await backend.clearOwnedSession('ann', digestKey(phone))).toBe(false);
      } finally {
        await backend.close();
      }
    });

    it("another owner's digest, an unknown, malformed or raw key removes nothing; a non-string digest is a TypeError", async () => {
      const backend = await make(hashKeys);
      try {
        const ann = await backend.generate({ value: 'ann', owner: 'ann' });
        const bob = await backend.generate({ value: 'bob', owner: 'bob' });
        for (const digest of [digestKey(bob), digestKey('unknown'), '', 'not a digest!', 'x'.repeat(41), ann]) {
          expect(await backend.clearOwnedSession('ann', digest), digest).toBe(false);
        }
        expect(await backend.get(ann)).toMatchObject({ ok: true, value: 'ann' });
        expect(await backend.get(bob)).toMatchObject({ ok: true, value: 'bob' });
        await expect(backend.clearOwnedSession('ann', 42 as never)).rejects.toThrow(TypeError);
        await expect(backend.clearOwnedSession('', digestKey(ann))).rejects.toThrow(TypeError);
      } finally {
        await backend.close();
      }
    });
  });
}

describeRemoval('MemoryBackend', async (hashKeys) => {
  // The memory store keeps keys in process memory only; hashKeys does not apply, both rounds run the same store.
  void hashKeys;
  return new MemoryBackend();
});

describe.skipIf(postgresSkipReason !== undefined)(`PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const prefix = `sk_rmowned_${process.pid}_`;
  const pool = testPool(4);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });
  describeRemoval('PostgresBackend', async (hashKeys) => {
    const backend = new PostgresBackend(pool, { table: uniqueTable('rmowned').replace(/^sk_rmowned_/, prefix), hashKeys });
    await backend.ensureSchema();
    return backend;
  });
});

describe.skipIf(redisSkipReason !== undefined)(`Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  describeRemoval('RedisBackend', async (hashKeys) => new RedisBackend(redis.client, { prefix: redis.prefix('rmowned'), hashKeys }));
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { OWNER_SET_MARGIN_MS } from '../../../src/backends/redis/stored-value.js';
import { digestKey } from '../../../src/index.js';
import { stopwatch } from '../../support/elapsed.js';
import { keysWithPrefix, redisSkipReason, serverNowMs, useTestRedis } from '../../support/redis-env.js';

describe.skipIf(redisSkipReason !== undefined)(`RedisBackend sessions by owner${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const prefix = (name: string) => redis.prefix(name);
  /** The Redis key of an owner's sorted set, as docs/redis.md gives it. */
  const ownerSetKey = (backend: RedisBackend, owner: string) => `${backend.prefix}owner:{${digestKey(owner)}}`;
  /** The owner head of a stored session: owner tag and covered instant. */
  const headOf = async (backend: RedisBackend, key: string) => {
    const raw = (await redis.client.get(backend.redisKey(key))) as string;
    const match = /^(\d+)(?:@([\w-]+)@(\d+))?(?::[\w-]+)+(=.*)?$/s.exec(raw);
    if (match === null) throw new Error(`not a session string: ${raw}`);
    return { expiresAtMs: Number(match[1]), tag: match[2], coveredMs: match[3] === undefined ? undefined : Number(match[3]), rest: match[4] ?? '' };
  };

  it('an owned session: a sorted set per owner (tags scored by server time) and the owner tag in the session string; no owner id in Redis', async () => {
    const p = prefix('owner-layout');
    const backend = new RedisBackend(redis.client, { prefix: p });
    const elapsed = stopwatch();
    const before = await serverNowMs(redis.client);
    const owned = await backend.generate({ owner: 'ada@example.com', value: 'v = 1', expiry: 100 });
    const after = await serverNowMs(redis.client);
    const anonymous = await backend.generate({ value: 'w', expiry: 100 });
    const setKey = ownerSetKey(backend, 'ada@example.com');
    expect(setKey).toBe(`${p}owner:{${digestKey('ada@example.com')}}`);
    // Beside the owner set, its pending marks (same hash tag): the login's, written, forgotten after its window.
    const pendingKey = `${setKey}:pending`;
    expect((await keysWithPrefix(redis.client, p)).sort()).toEqual([backend.redisKey(owned), backend.redisKey(anonymous), setKey, pendingKey].sort());
    expect(await redis.client.zrange(pendingKey, '0', '-1')).toEqual([digestKey(owned)]);
    expect(await redis.client.pttl(pendingKey)).toBeLessThanOrEqual(2 * 5000 + OWNER_SET_MARGIN_MS);
    expect(await redis.client.type(setKey)).toBe('zset');
    const [member, score] = await redis.client.zrange(setKey, '0', '-1', 'WITHSCORES');
    expect(member).toBe(digestKey(owned));
    expect(Number(score)).toBeGreaterThanOrEqual(before);
    expect(Number(score)).toBeLessThanOrEqual(after);

    const head = await headOf(backend, owned);
    expect(head).toMatchObject({ tag: digestKey('ada@example.com'), rest: '=v = 1' });
    // Covered for twice the expiry; the owner set lives that long plus a margin.
    expect(head.coveredMs! - head.expiresAtMs).toBeGreaterThanOrEqual(99_000);
    expect(head.coveredMs! - head.expiresAtMs).toBeLessThanOrEqual(100_000);
    // The owner set's TTL started no earlier than the stopwatch and runs down with it (100 ms for the two clocks).
    expect(await redis.client.pttl(setKey)).toBeGreaterThan(200_000 + OWNER_SET_MARGIN_MS - elapsed() * 1000 - 100);
    // A session without owner keeps the format it always had.
    expect(await headOf(backend, anonymous)).toMatchObject({ tag: undefined, rest: '=w' });

    for (const key of await keysWithPrefix(redis.client, p)) {
      expect(key).not.toContain('ada');
      const dump = (await redis.client.type(key)) === 'zset' ? (await redis.client.zrange(key, '0', '-1')).join() : await redis.client.get(key);
      expect(dump).not.toContain('ada');
    }
    await backend.close();
  });

  it('set and compare-and-set keep the owner; a renewal past the cover extends the owner set first, so it always outlives its sessions', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-renew') });
    const setKey = ownerSetKey(backend, 'ada');
    const key = await backend.generate({ owner: 'ada', value: '0', expiry: 100 });
    const first = await headOf(backend, key);

    // Within the cover (200 s from the generate): one write, the cover unchanged.
    await backend.set(key, '1', { expiry: 150 });
    expect(await headOf(backend, key)).toMatchObject({ tag: digestKey('ada'), coveredMs: first.coveredMs, rest: '=1' });
    expect(await backend.compareAndSet(key, '1', '2', { expiry: 5 })).toBe('ok');
    expect(await headOf(backend, key)).toMatchObject({ tag: digestKey('ada'), coveredMs: first.coveredMs, rest: '=2' });

    // Past it: the owner set is extended, and the session records the new cover.
    await backend.set(key, '3', { expiry: 1000 });
    let head = await headOf(backend, key);
    expect(head).toMatchObject({ tag: digestKey('ada'), rest: '=3' });
    expect(head.coveredMs! - head.expiresAtMs).toBeGreaterThanOrEqual(999_000);
    expect(await redis.client.pttl(setKey)).toBeGreaterThan(2_000_000);
    expect(await backend.compareAndSet(key, 'stale', 'x', { expiry: 100_000 })).toBe('conflict');
    expect(await backend.compareAndSet(key, '3', '4', { expiry: 100_000 })).toBe('ok');
    head = await headOf(backend, key);
    expect(head).toMatchObject({ tag: digestKey('ada'), rest: '=4' });
    expect(head.coveredMs! - head.expiresAtMs).toBeGreaterThanOrEqual(99_999_000);

    // Whatever the order of renewals, the owner set never expires before a session in it.
    let value = '4';
    for (const expiry of [3, 50_000, 7, 400_000, 1, 2_000_000, 60]) {
      if (expiry % 2 === 0) await backend.set(key, String(expiry), { expiry });
      else expect(await backend.compareAndSet(key, value, String(expiry), { expiry })).toBe('ok');
      value = String(expiry);
      expect(await redis.client.pttl(setKey)).toBeGreaterThanOrEqual(await redis.client.pttl(backend.redisKey(key)));
    }
    expect((await backend.listByOwner('ada')).map((s) => s.keyDigest)).toEqual([digestKey(key)]);
    await backend.close();
  });

  it('an owner set entry that was lost (a failover, a hand-made DEL) comes back at the next renewal past the cover', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-repair') });
    const key = await backend.generate({ owner: 'ada', expiry: 10 });
    await redis.client.del(ownerSetKey(backend, 'ada'));
    expect(await backend.listByOwner('ada')).toEqual([]);
    await backend.set(key, 'renewed', { expiry: 3600 });
    expect((await backend.listByOwner('ada')).map((s) => s.keyDigest)).toEqual([digestKey(key)]);
    expect(await backend.clearByOwner('ada')).toBe(1);
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    await backend.close();
  });

  it('entries of gone sessions are dropped when an owner operation meets them; an emptied owner set disappears', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-lazy') });
    const setKey = ownerSetKey(backend, 'ada');
    const keys = await Promise.all([1, 2, 3].map(() => backend.generate({ owner: 'ada' })));
    await backend.clear(keys[0]!);
    expect(await redis.client.zcard(setKey)).toBe(3);
    // A login written in the millisecond a listing reads is spared by its tidy (its session may be written after
    // the look): let the server's clock move past the logins' marks first.
    await sleep(5);
    expect(await backend.listByOwner('ada')).toHaveLength(2);
    expect(await redis.client.zcard(setKey)).toBe(2);
    expect(await backend.clearByOwner('ada')).toBe(2);
    expect(await redis.client.exists(setKey)).toBe(0);
    await backend.close();
  });

  it('clearByOwner deletes only sessions that carry the owner\'s tag, whatever its set lists', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-foreign') });
    const bob = await backend.generate({ owner: 'bob', value: 'bob' });
    const anonymous = await backend.generate({ value: 'nobody' });
    const ada = await backend.generate({ owner: 'ada' });
    // Someone wrote other sessions' tags into ada's set.
    await redis.client.zadd(ownerSetKey(backend, 'ada'), 1, digestKey(bob), 2, digestKey(anonymous));
    expect((await backend.listByOwner('ada')).map((s) => s.keyDigest)).toEqual([digestKey(ada)]);
    await redis.client.zadd(ownerSetKey(backend, 'ada'), 1, digestKey(bob), 2, digestKey(anonymous));
    expect(await backend.clearByOwner('ada')).toBe(1);
    expect(await backend.get(bob)).toMatchObject({ ok: true, value: 'bob' });
    expect(await backend.get(anonymous)).toMatchObject({ ok: true, value: 'nobody' });
    await backend.close();
  });

  it('maxSessionsPerOwner counts live sessions only: a cleared one does not take a place', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-limit'), maxSessionsPerOwner: 3 });
    const made: string[] = [];
    const generate = async (value: string) => {
      made.push(await backend.generate({ owner: 'ada', value }));
      // Entries are ordered by server milliseconds: keep the creation order unambiguous.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return made.at(-1)!;
    };
    const oldest = await generate('oldest');
    const cleared = await generate('cleared');
    await backend.clear(cleared);
    const second = await generate('second');
    const third = await generate('third');
    expect(await backend.get(oldest)).toMatchObject({ ok: true, value: 'oldest' });
    expect((await backend.listByOwner('ada')).map((s) => s.keyDigest)).toEqual([oldest, second, third].map(digestKey));
    const fourth = await generate('fourth');
    expect(await backend.get(oldest)).toEqual({ ok: false, error: 'NotFound' });
    expect((await backend.listByOwner('ada')).map((s) => s.keyDigest)).toEqual([second, third, fourth].map(digestKey));
    await backend.close();
  });

  it('bad maxSessionsPerOwner throws a TypeError in the constructor', () => {
    for (const maxSessionsPerOwner of [0, -1, 1.5, Number.NaN, '3'] as unknown as number[]) {
      expect(() => new RedisBackend(redis.client, { maxSessionsPerOwner })).toThrow(TypeError);
    }
  });

  it('owner operations after close() reject with "closed"', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('owner-closed') });
    await backend.close();
    await expect(backend.listByOwner('ada')).rejects.toMatchObject({ code: 'closed' });
    await expect(backend.clearByOwner('ada')).rejects.toMatchObject({ code: 'closed' });
    await expect(backend.generate({ owner: 'ada' })).rejects.toMatchObject({ code: 'closed' });
  });
});

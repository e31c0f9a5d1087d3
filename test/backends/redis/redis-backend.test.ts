import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { BackendError, digestKey, generateKey } from '../../../src/index.js';
import { deleteKeysWithPrefix, keysWithPrefix, redisSkipReason, testClient, uniquePrefix } from '../../support/redis-env.js';

describe.skipIf(redisSkipReason !== undefined)(`RedisBackend on a single Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const prefixes: string[] = [];
  const prefix = (name: string) => {
    const p = uniquePrefix(name);
    prefixes.push(p);
    return p;
  };
  let client: Redis;
  beforeAll(() => {
    client = testClient();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeysWithPrefix(client, p);
    await client.quit();
  });

  it('stores one string per session under prefix{sha-256 digest}: "" when not set, "=" + value otherwise, with the expiry as TTL', async () => {
    const p = prefix('layout');
    const backend = new RedisBackend(client, { prefix: p });
    const unset = await backend.generate({ expiry: 100 });
    const set = await backend.generate({ value: 'secret value', expiry: 200 });
    const stored = await keysWithPrefix(client, p);
    expect(stored.sort()).toEqual([`${p}{${digestKey(unset)}}`, `${p}{${digestKey(set)}}`].sort());
    expect(stored.some((k) => k.includes(unset) || k.includes(set))).toBe(false);
    expect(backend.redisKey(set)).toBe(`${p}{${digestKey(set)}}`);
    expect(await client.get(backend.redisKey(unset))).toBe('');
    expect(await client.get(backend.redisKey(set))).toBe('=secret value');
    expect(await client.ttl(backend.redisKey(unset))).toBeGreaterThanOrEqual(99);
    expect(await client.ttl(backend.redisKey(set))).toBeGreaterThanOrEqual(199);
    await backend.close();
  });

  it('hashKeys: false stores the key itself as the hash tag', async () => {
    const p = prefix('plain');
    const backend = new RedisBackend(client, { prefix: p, hashKeys: false });
    const key = await backend.generate({ value: 'v' });
    expect(await keysWithPrefix(client, p)).toEqual([`${p}{${key}}`]);
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'v' });
    await backend.close();
  });

  it('the period comes from the key TTL, rounded to whole seconds', async () => {
    const backend = new RedisBackend(client, { prefix: prefix('ttl') });
    const key = await backend.generate({ value: 'v', expiry: 1000 });
    await client.pexpire(backend.redisKey(key), 41_600);
    expect(await backend.get(key)).toEqual({ ok: true, value: 'v', period: 42 });
    await client.pexpire(backend.redisKey(key), 41_400);
    expect(await backend.get(key)).toEqual({ ok: true, value: 'v', period: 41 });
    // A TTL removed by hand: the session reads as freshly renewed, never as expired.
    await client.persist(backend.redisKey(key));
    expect(await backend.get(key)).toEqual({ ok: true, value: 'v', period: backend.defaultPeriod() });
    await backend.clear(key);
    await backend.close();
  });

  it('prefixes isolate backends sharing one client', async () => {
    const a = new RedisBackend(client, { prefix: prefix('a') });
    const b = new RedisBackend(client, { prefix: prefix('b') });
    const key = await a.generate({ value: 'in a' });
    expect(await b.get(key)).toEqual({ ok: false, error: 'NotFound' });
    await b.set(key, 'written by b');
    await b.clear(key);
    expect(await b.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(await a.get(key)).toMatchObject({ ok: true, value: 'in a' });
    await Promise.all([a.close(), b.close()]);
  });

  it('a key holding data sessionkit did not write fails that operation only, as query_failed', async () => {
    const backend = new RedisBackend(client, { prefix: prefix('foreign') });
    const good = await backend.generate({ value: 'fine' });
    const list = generateKey();
    const alien = generateKey();
    await client.lpush(backend.redisKey(list), 'x');
    await client.set(backend.redisKey(alien), 'no marker', 'EX', 100);
    // Issued in the same tick: one script call, four independent answers.
    const [a, b, c, d] = await Promise.allSettled([backend.get(good), backend.get(list), backend.compareAndSet(list, null, 'v'), backend.get(alien)]);
    expect(a).toEqual({ status: 'fulfilled', value: { ok: true, value: 'fine', period: expect.any(Number) } });
    for (const failed of [b, c, d]) {
      expect(failed.status).toBe('rejected');
      if (failed.status === 'rejected') {
        expect(failed.reason).toBeInstanceOf(BackendError);
        expect((failed.reason as BackendError).code).toBe('query_failed');
      }
    }
    await backend.close();
  });

  it('close() rejects later operations with "closed" and leaves the client open', async () => {
    const backend = new RedisBackend(client, { prefix: prefix('close') });
    const key = await backend.generate({ value: 'v' });
    const inFlight = backend.get(key);
    await backend.close();
    expect(await inFlight).toMatchObject({ ok: true, value: 'v' });
    await expect(backend.get(key)).rejects.toMatchObject({ name: 'BackendError', code: 'closed' });
    await expect(backend.generate()).rejects.toMatchObject({ code: 'closed' });
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('bad configuration throws a TypeError in the constructor', () => {
    expect(() => new RedisBackend({} as Redis)).toThrow(TypeError);
    expect(() => new RedisBackend(client, { prefix: 'a{b}:' })).toThrow(TypeError);
    expect(() => new RedisBackend(client, { prefix: 42 as unknown as string })).toThrow(TypeError);
    expect(() => new RedisBackend(client, { timeoutMs: 0 })).toThrow(TypeError);
    expect(() => new RedisBackend(client, { timeoutMs: 1.5 })).toThrow(TypeError);
    expect(() => new RedisBackend(client, { hashKeys: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new RedisBackend(client, { defaultPeriodSeconds: 0.5 })).toThrow(TypeError);
  });
});

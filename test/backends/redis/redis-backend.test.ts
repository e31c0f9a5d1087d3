import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { BackendError, digestKey, generateKey } from '../../../src/index.js';
import { stopwatch } from '../../support/elapsed.js';
import { keysWithPrefix, redisSkipReason, serverNowMs, useTestRedis } from '../../support/redis-env.js';

describe.skipIf(redisSkipReason !== undefined)(`RedisBackend on a single Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const prefix = (name: string) => redis.prefix(name);

  it('stores one string per session under prefix{sha-256 digest}: its expiry instant, its write token, then nothing (not set) or "=" + value; the TTL ends at that instant', async () => {
    const p = prefix('layout');
    const backend = new RedisBackend(redis.client, { prefix: p });
    const beforeMs = await serverNowMs(redis.client);
    const unset = await backend.generate({ expiry: 100 });
    const set = await backend.generate({ value: 'secret = value', expiry: 200 });
    const afterMs = await serverNowMs(redis.client);
    const stored = await keysWithPrefix(redis.client, p);
    expect(stored.sort()).toEqual([`${p}{${digestKey(unset)}}`, `${p}{${digestKey(set)}}`].sort());
    expect(stored.some((k) => k.includes(unset) || k.includes(set))).toBe(false);
    expect(backend.redisKey(set)).toBe(`${p}{${digestKey(set)}}`);
    for (const [key, expiry, rest] of [[unset, 100, ''], [set, 200, '=secret = value']] as const) {
      const raw = (await redis.client.get(backend.redisKey(key))) as string;
      // Then the write token (a per-process prefix and a counter) and the value.
      const match = /^(\d+):([\w-]{9,19})(.*)$/s.exec(raw);
      expect(match?.[3]).toBe(rest);
      const expiresAtMs = Number(match?.[1]);
      expect(expiresAtMs).toBeGreaterThanOrEqual(beforeMs + expiry * 1000);
      expect(expiresAtMs).toBeLessThanOrEqual(afterMs + expiry * 1000);
      // The instant in the value is the key's own expiry (PEXPIRETIME, Redis 7).
      expect(await redis.client.call('PEXPIRETIME', backend.redisKey(key))).toBe(expiresAtMs);
    }
    await backend.close();
  });

  it('hashKeys: false stores the key itself as the hash tag', async () => {
    const p = prefix('plain');
    const backend = new RedisBackend(redis.client, { prefix: p, hashKeys: false });
    const key = await backend.generate({ value: 'v' });
    expect(await keysWithPrefix(redis.client, p)).toEqual([`${p}{${key}}`]);
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'v' });
    await backend.close();
  });

  it('the period is the whole seconds, rounded, from the server clock to the stored expiry, never negative', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('period') });
    const key = await backend.generate({ value: 'v', expiry: 1000 });
    // Stores an expiry msFromNow ahead of the server clock and reads the period;
    // between the two the clock moves on by at most the stopwatch's reading.
    const periodAt = async (msFromNow: number) => {
      const elapsed = stopwatch();
      await redis.client.set(backend.redisKey(key), `${(await serverNowMs(redis.client)) + msFromNow}=v`, 'KEEPTTL');
      const read = await backend.get(key);
      expect(read).toMatchObject({ ok: true, value: 'v' });
      return { period: read.ok ? read.period : NaN, earliest: Math.max(0, Math.round((msFromNow - elapsed() * 1000) / 1000)) };
    };
    for (const [msFromNow, rounded] of [[41_700, 42], [41_300, 41], [-5000, 0]] as const) {
      const { period, earliest } = await periodAt(msFromNow);
      expect(period).toBeLessThanOrEqual(rounded);
      expect(period).toBeGreaterThanOrEqual(earliest);
    }
    await backend.clear(key);
    await backend.close();
  });

  it('prefixes isolate backends sharing one client', async () => {
    const a = new RedisBackend(redis.client, { prefix: prefix('a') });
    const b = new RedisBackend(redis.client, { prefix: prefix('b') });
    const key = await a.generate({ value: 'in a' });
    expect(await b.get(key)).toEqual({ ok: false, error: 'NotFound' });
    await b.set(key, 'written by b');
    await b.clear(key);
    expect(await b.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(await a.get(key)).toMatchObject({ ok: true, value: 'in a' });
    await Promise.all([a.close(), b.close()]);
  });

  it('a key holding data sessionkit did not write fails that operation only, as query_failed', async () => {
    const backend = new RedisBackend(redis.client, { prefix: prefix('foreign') });
    const good = await backend.generate({ value: 'fine' });
    const list = generateKey();
    const alien = generateKey();
    await redis.client.lpush(backend.redisKey(list), 'x');
    await redis.client.set(backend.redisKey(alien), 'no expiry in front', 'EX', 100);
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
    const backend = new RedisBackend(redis.client, { prefix: prefix('close') });
    const key = await backend.generate({ value: 'v' });
    const inFlight = backend.get(key);
    await backend.close();
    expect(await inFlight).toMatchObject({ ok: true, value: 'v' });
    await expect(backend.get(key)).rejects.toMatchObject({ name: 'BackendError', code: 'closed' });
    await expect(backend.generate()).rejects.toMatchObject({ code: 'closed' });
    expect(redis.client.status).toBe('ready');
    expect(await redis.client.ping()).toBe('PONG');
  });

  it('bad configuration throws a TypeError in the constructor', () => {
    expect(() => new RedisBackend({} as Redis)).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { prefix: 'a{b}:' })).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { prefix: 42 as unknown as string })).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { timeoutMs: 0 })).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { timeoutMs: 1.5 })).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { hashKeys: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new RedisBackend(redis.client, { defaultPeriodSeconds: 0.5 })).toThrow(TypeError);
  });
});

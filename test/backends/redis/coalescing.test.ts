import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { generateKey } from '../../../src/index.js';
import { expectPeriodWithin, stopwatch } from '../../support/elapsed.js';
import { redisServerSkipReason } from '../../support/redis-env.js';
import { RedisServer } from '../../support/redis-server.js';

/** Calls of each command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  return Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

// A server of its own, so that INFO commandstats counts this file's commands only.
describe.skipIf(redisServerSkipReason !== undefined)(`RedisBackend coalescing${redisServerSkipReason ? ` (skipped: ${redisServerSkipReason})` : ''}`, () => {
  let server: RedisServer;
  let client: Redis;
  let stats: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = new Redis({ host: '127.0.0.1', port: server.port });
    stats = new Redis({ host: '127.0.0.1', port: server.port });
  });
  afterAll(async () => {
    client?.disconnect();
    stats?.disconnect();
    await server?.destroy();
  });

  it('64 mixed operations issued in one tick take two script calls (one per call slot), each keeping its own result', async () => {
    const backend = new RedisBackend(client);
    const keys = await Promise.all(Array.from({ length: 16 }, (_, i) => backend.generate({ value: `v${i}` })));
    const unset = await backend.generate();
    await stats.config('RESETSTAT');

    const forged = generateKey();
    const ops = [
      ...keys.map((key) => backend.get(key)),
      ...keys.slice(0, 8).map((key, i) => backend.set(key, `new${i}`, { expiry: 500 })),
      ...keys.slice(8, 12).map((key) => backend.clear(key)),
      backend.compareAndSet(keys[12] as string, 'v12', 'swapped'),
      backend.compareAndSet(keys[13] as string, 'wrong', 'nope'),
      backend.compareAndSet(forged, null, 'nope'),
      backend.compareAndSet(unset, null, 'first'),
      backend.set(forged, 'adopted?'),
      backend.get(forged),
      backend.get('not a key!'),
      ...Array.from({ length: 30 }, (_, i) => backend.generate({ value: `g${i}`, expiry: 100 })),
      backend.generate({ expiry: 0 }),
    ];
    expect(ops.length).toBeGreaterThanOrEqual(64);
    const results = await Promise.all(ops);
    const calls = await commandCalls(stats);
    // Split in two so that Redis runs one half while Node settles the other.
    expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBe(2);

    // Gets run before the writes issued after them in the same tick, also across the two calls.
    keys.forEach((_, i) => expect(results[i]).toMatchObject({ ok: true, value: `v${i}` }));
    expect(results.slice(16, 28)).toEqual(Array(12).fill(undefined));
    expect(results.slice(28, 32)).toEqual(['ok', 'conflict', 'NotFound', 'ok']);
    expect(results.slice(32, 35)).toEqual([undefined, { ok: false, error: 'NotFound' }, { ok: false, error: 'NotFound' }]);
    const generated = results.slice(35, 65) as string[];
    expect(new Set(generated).size).toBe(30);

    const after = await Promise.all([...keys, unset, forged].map((key) => backend.get(key)));
    for (let i = 0; i < 8; i++) expect(after[i]).toMatchObject({ ok: true, value: `new${i}` });
    for (let i = 8; i < 12; i++) expect(after[i]).toEqual({ ok: false, error: 'NotFound' });
    expect(after[12]).toMatchObject({ ok: true, value: 'swapped' });
    expect(after[13]).toMatchObject({ ok: true, value: 'v13' });
    expect(after[16]).toMatchObject({ ok: true, value: 'first' });
    expect(after[17]).toEqual({ ok: false, error: 'NotFound' });
    const values = await Promise.all(generated.map((key) => backend.get(key)));
    values.forEach((value, i) => expect(value).toMatchObject({ ok: true, value: `g${i}` }));
    await backend.close();
  });

  it('a batch larger than one call allows is split, and operations in different ticks are not held back', async () => {
    const backend = new RedisBackend(client);
    await stats.config('RESETSTAT');
    const keys = await Promise.all(Array.from({ length: 300 }, (_, i) => backend.generate({ value: String(i) })));
    const calls = await commandCalls(stats);
    expect(calls.evalsha).toBeGreaterThanOrEqual(3);
    expect(calls.evalsha).toBeLessThan(10);
    const sequential: unknown[] = [];
    for (const key of keys.slice(0, 5)) sequential.push(await backend.get(key));
    sequential.forEach((result, i) => expect(result).toMatchObject({ ok: true, value: String(i) }));
    await backend.close();
  });

  it('a lone get is a plain GET once a script reply has read the server clock, and the seconds left stay right; a clear goes through the script, whose fence keeps it from landing late', async () => {
    const backend = new RedisBackend(client);
    await stats.config('RESETSTAT');
    // A new backend has no clock reading yet: its first lone get goes through the script.
    expect(await backend.get(generateKey())).toEqual({ ok: false, error: 'NotFound' });
    expect(await commandCalls(stats)).toMatchObject({ evalsha: 1 });

    const elapsed = stopwatch();
    const key = await backend.generate({ value: 'v', expiry: 100 });
    await stats.config('RESETSTAT');
    const read = await backend.get(key);
    expect(read).toMatchObject({ ok: true, value: 'v' });
    if (read.ok) expectPeriodWithin(read.period, 100, elapsed);
    const unset = await backend.generate();
    expect(await backend.get(unset)).toEqual({ ok: false, error: 'NotSet' });
    await backend.clear(key);
    expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    // generate and clear are script calls (one SET, one DEL); the three gets are plain
    // GETs (commands a script runs count too).
    expect(await commandCalls(stats)).toMatchObject({ evalsha: 2, get: 3, set: 1, del: 1 });
    await backend.close();
  });

  it('the script is loaded again when Redis forgets it (SCRIPT FLUSH, restart, promoted replica)', async () => {
    const backend = new RedisBackend(client);
    const key = await backend.generate({ value: 'v' });
    await stats.script('FLUSH');
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'v' });
    await backend.close();
  });
});

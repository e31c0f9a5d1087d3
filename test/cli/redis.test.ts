import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { supportsOwners } from '../../src/core/contract.js';
import { digestKey } from '../../src/core/keys.js';
import { deleteKeysWithPrefix, REDIS_URL, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { expectPeriodWithin, stopwatch } from '../support/elapsed.js';
import { isOneLineWithoutStack, jsonOf, runCli } from './support/run-cli.js';

describe.skipIf(redisSkipReason !== undefined)(`sessionkit on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const client = testClient();
  const base = uniquePrefix('cli');
  const prefixes: string[] = [];
  const newPrefix = (tail = '') => {
    const prefix = `${base}${prefixes.length}${tail}:`;
    prefixes.push(prefix);
    return prefix;
  };
  const env = { REDIS_URL };
  // Store options first: a test passes a key last, after "--", since a generated key may start with "-".
  const cli = (prefix: string, ...args: string[]) => runCli(['--prefix', prefix, ...args], { env });
  afterAll(async () => {
    await deleteKeysWithPrefix(client, base);
    client.disconnect();
  });

  it('migrate: nothing to migrate, exit 0', async () => {
    const run = await cli(newPrefix(), 'migrate', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({ store: 'redis', action: 'none', added: [], note: expect.stringContaining('nothing to migrate') });
    const text = await cli(newPrefix(), 'migrate');
    expect(text.stdout).toMatch(/^Redis .*: Redis needs no schema.*nothing to migrate\.\n$/);
  });

  it('purge: 0 deleted, because Redis expires sessions itself', async () => {
    const prefix = newPrefix();
    await new RedisBackend(client, { prefix }).generate({ value: 'x' });
    const run = await cli(prefix, 'purge', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({ store: 'redis', deleted: 0, expiredBefore: null, durationMs: 0, note: expect.stringContaining('TTL') });
    const text = await cli(prefix, 'purge');
    expect(text.stdout).toMatch(/^Deleted 0 sessions: Redis deletes expired sessions itself/);
  });

  it('stats counts the session keys under the prefix only (prefix glob characters are literal)', async () => {
    const prefix = newPrefix('*[x]');
    // Under an unescaped pattern "…*[x]:{*}", this sibling prefix would match too.
    const sibling = `${prefix.slice(0, -5)}zzzx:`;
    prefixes.push(sibling);
    const backend = new RedisBackend(client, { prefix });
    await Promise.all(Array.from({ length: 7 }, (_, i) => backend.generate(i < 3 ? {} : { value: `v${i}` })));
    await new RedisBackend(client, { prefix: sibling }).generate({ value: 'not ours' });
    await client.set(`${prefix}not-a-session`, 'x', 'EX', 60);
    await client.sadd(`${prefix}{a-set}`, 'x');
    await client.expire(`${prefix}{a-set}`, 60);

    const run = await cli(prefix, 'stats', '--json');
    expect(run.code).toBe(0);
    const report = jsonOf(run);
    expect(report).toMatchObject({ store: 'redis', live: 7, expired: null, owners: null });
    const size = report.sizeBytes as Record<string, number>;
    expect(size.sessions).toBeGreaterThan(0);
    expect(size.serverUsedMemory).toBeGreaterThan(size.sessions!);
    const text = await cli(prefix, 'stats');
    expect(text.stdout).toMatch(/live sessions\s+7\n/);
  });

  it('inspect: Set with value and period; NotSet; NotFound (exit 1)', async () => {
    const prefix = newPrefix();
    const backend = new RedisBackend(client, { prefix });
    const elapsed = stopwatch();
    const set = await backend.generate({ value: 'hello\u001b[31m', expiry: 600 });
    const notSet = await backend.generate();
    const found = await cli(prefix, 'inspect', '--json', '--', set);
    expect(found.code).toBe(0);
    const report = jsonOf(found);
    expect(report).toMatchObject({ store: 'redis', keyDigest: digestKey(set), status: 'Set', value: 'hello\u001b[31m' });
    expectPeriodWithin(report.periodSeconds as number, 600, elapsed);
    // A value with control characters is printed escaped, never raw to the terminal.
    expect((await cli(prefix, 'inspect', '--', set)).stdout).toContain('"hello\\u001b[31m"');
    expect(jsonOf(await cli(prefix, 'inspect', '--json', '--', notSet))).toEqual({ store: 'redis', keyDigest: digestKey(notSet), status: 'NotSet' });
    const missing = await cli(prefix, 'inspect', 'bm90LWEtc2Vzc2lvbg');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/status\s+NotFound/);
  });

  it('--no-hash-keys finds keys stored as they are', async () => {
    const prefix = newPrefix();
    const key = await new RedisBackend(client, { prefix, hashKeys: false }).generate({ value: 'plain' });
    expect(jsonOf(await cli(prefix, 'inspect', '--no-hash-keys', '--json', '--', key))).toMatchObject({ status: 'Set', value: 'plain' });
    expect((await cli(prefix, 'inspect', '--', key)).code).toBe(1);
  });

  it('revoke KEY ends the session, then exits 1', async () => {
    const prefix = newPrefix();
    const backend = new RedisBackend(client, { prefix });
    const [victim, bystander] = await Promise.all([backend.generate({ value: 'a' }), backend.generate({ value: 'b' })]);
    const run = await cli(prefix, 'revoke', '--json', '--', victim);
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({ store: 'redis', keyDigest: digestKey(victim), revoked: true });
    expect(await backend.get(victim)).toEqual({ ok: false, error: 'NotFound' });
    expect(await backend.get(bystander)).toMatchObject({ ok: true, value: 'b' });
    expect((await cli(prefix, 'revoke', '--', victim)).code).toBe(1);
  });

  it('revoke --owner ends every session of the owner, --except keeps one, no one else\'s', async () => {
    const prefix = newPrefix();
    const backend = new RedisBackend(client, { prefix });
    expect(supportsOwners(backend)).toBe(true);
    const [kept, ...keys] = await Promise.all([1, 2, 3].map(() => backend.generate({ owner: 'gina' })));
    const other = await backend.generate({ owner: 'hugo', value: 'hugo' });
    const run = await cli(prefix, 'revoke', '--owner', 'gina', '--json', '--except', kept!);
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ store: 'redis', owner: 'gina', revoked: 2 });
    for (const key of keys) expect(await backend.get(key)).toEqual({ ok: false, error: 'NotFound' });
    expect(await backend.get(kept!)).toEqual({ ok: false, error: 'NotSet' });
    expect(await backend.get(other)).toMatchObject({ ok: true, value: 'hugo' });
    expect(jsonOf(await cli(prefix, 'revoke', '--owner', 'gina', '--json'))).toMatchObject({ store: 'redis', owner: 'gina', revoked: 1 });
  });

  it('--table is a usage error on Redis', async () => {
    const run = await runCli(['stats', '--table', 'session'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--table is for PostgreSQL');
  });
});

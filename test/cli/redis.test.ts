import { afterAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { supportsOwners } from '../../src/core/contract.js';
import { digestKey } from '../../src/core/keys.js';
import { encodeEnvelope } from '../../src/http/envelope.js';
import { deleteKeysWithPrefix, REDIS_URL, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { expectPeriodWithin, stopwatch } from '../support/elapsed.js';
import { isOneLineWithoutStack, jsonOf, runCli } from './support/run-cli.js';

/** How the CLI names a Redis server: host and port, and the database when the URL names one. */
const shownServer = (url: string): string => {
  const parsed = new URL(url);
  return parsed.host + (parsed.pathname.length > 1 ? parsed.pathname : '');
};

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
    // Owner and creation time as on PostgreSQL: this session has no owner, so Redis keeps no creation time for it.
    expect(jsonOf(await cli(prefix, 'inspect', '--json', '--', notSet))).toEqual({ store: 'redis', keyDigest: digestKey(notSet), status: 'NotSet', owner: null, createdAt: null });
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
    // One generated key in 64 starts with "-": `--except=KEY` takes every key (docs/cli.md).
    const run = await cli(prefix, 'revoke', '--owner', 'gina', '--json', `--except=${kept!}`);
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

  it('inspect shows the owner: from a typed session\'s value, else its digest; (none) without one', async () => {
    const prefix = newPrefix();
    const backend = new RedisBackend(client, { prefix });
    const beforeMs = Date.now();
    const typed = await backend.generate({ owner: 'carol', value: encodeEnvelope({ createdAtMs: Date.now(), owner: 'carol', data: { n: 1 } }) });
    const raw = await backend.generate({ owner: 'dave', value: 'plain text' });
    const anonymous = await backend.generate({ value: 'nobody' });

    const carol = jsonOf(await cli(prefix, 'inspect', '--json', '--', typed));
    expect(carol).toMatchObject({ status: 'Set', owner: 'carol', ownerDigest: digestKey('carol') });
    // The creation time is the session's score in its owner's set: the Redis server's clock (this machine's, give or take 1 s).
    const createdMs = Date.parse(carol.createdAt as string);
    expect(createdMs).toBeGreaterThanOrEqual(beforeMs - 1000);
    expect(createdMs).toBeLessThanOrEqual(Date.now() + 1000);
    expect((await cli(prefix, 'inspect', '--', typed)).stdout).toMatch(/owner\s+"?carol"?\n/);

    const dave = jsonOf(await cli(prefix, 'inspect', '--json', '--', raw));
    expect(dave).toMatchObject({ status: 'Set', ownerDigest: digestKey('dave') });
    expect(dave).not.toHaveProperty('owner');
    expect((await cli(prefix, 'inspect', '--', raw)).stdout).toContain(`digest ${digestKey('dave')}`);

    expect(jsonOf(await cli(prefix, 'inspect', '--json', '--', anonymous))).toMatchObject({ status: 'Set', owner: null, createdAt: null });
  });

  it('a prefix that matches no session (a typo: "app" for "app:"): a warning on stderr; --strict exits 1', async () => {
    const prefix = newPrefix();
    await new RedisBackend(client, { prefix }).generate({ value: 'x' });
    const typo = prefix.slice(0, -1);
    const run = await cli(typo, 'stats', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ live: 0 });
    expect(run.stderr).toBe(`sessionkit: warning: Redis ${shownServer(REDIS_URL)}, prefix ${JSON.stringify(typo)} holds no session at all: check --prefix (a prefix usually ends with ":"); --strict makes this exit 1\n`);
    expect((await cli(typo, 'stats', '--strict')).code).toBe(1);
    expect((await cli(typo, 'inspect', '--strict', 'bm90LWEtc2Vzc2lvbg')).code).toBe(1);
    const right = await cli(prefix, 'stats', '--strict');
    expect(right.code).toBe(0);
    expect(right.stderr).toBe('');
  });

  it('a database number the server does not have is a usage error (exit 2), and database 0 is left alone', async () => {
    const prefix = newPrefix();
    const backend = new RedisBackend(client, { prefix });
    const key = await backend.generate({ value: 'in database 0' });
    const url = new URL(REDIS_URL);
    url.pathname = '/99';
    const run = await runCli(['revoke', '--prefix', prefix, '--redis-url', url.href, '--', key]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sessionkit: REDIS_URL names database 99, which .* does not have: ERR DB index is out of range\n$/);
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'in database 0' });
  });

  it('inspect - stops reading stdin after the longest key and its line end: a stream with no line end is rejected at once', async () => {
    const prefix = newPrefix();
    await new RedisBackend(client, { prefix }).generate({ value: 'x' });
    // stdin stays open: a command that read on to the end of its input would never exit.
    const run = await runCli(['--prefix', prefix, 'inspect', '-'], { env, input: 'A'.repeat(64 * 1024), holdStdinOpen: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('sessionkit: stdin does not start with a session key: no line end within 256 characters (a cookie value is at most 254)\n');
    const long = await runCli(['--prefix', prefix, 'inspect', '-'], { env, input: `${'A'.repeat(41)}\n`, holdStdinOpen: true });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('not a session key');
    const good = await runCli(['--prefix', prefix, 'inspect', '-'], { env, input: 'bm90LWEtc2Vzc2lvbg\r\n', holdStdinOpen: true });
    expect(good.code).toBe(1);
  });
});

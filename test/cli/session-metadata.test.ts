import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import type { OwnerIndexBackend } from '../../src/core/contract.js';
import { digestKey } from '../../src/core/keys.js';
import { encodeEnvelope } from '../../src/http/envelope.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../support/postgres.js';
import { deleteKeysWithPrefix, REDIS_URL, redisSkipReason, testClient, uniquePrefix } from '../support/redis-env.js';
import { jsonOf, runCli } from './support/run-cli.js';

const SEEN_MS = Date.UTC(2031, 4, 6, 7, 8, 9);

/** A typed session of `owner` as sessionkit writes it with `recordUserAgent` and `recordClientAddress` on. */
const typedValue = (owner: string, userAgent: string) =>
  encodeEnvelope({ createdAtMs: SEEN_MS - 60_000, owner, data: { n: 1 }, lastSeenAtMs: SEEN_MS, userAgent, clientAddress: '203.0.113.9' });

/** inspect and revoke --owner --list on a store, through the real command; `cli(...args)` names the store. */
function describeMetadataCommands(name: string, cli: (...args: string[]) => ReturnType<typeof runCli>, backendOf: () => Promise<OwnerIndexBackend>): void {
  describe(`sessionkit shows session metadata on ${name}`, () => {
    it('inspect: last seen, user agent (control characters escaped) and address of a typed session; nothing of the kind for any other value', async () => {
      const backend = await backendOf();
      const typed = await backend.generate({ owner: 'mia', value: typedValue('mia', 'Firefox\u001b[31m') });
      const found = jsonOf(await cli('inspect', '--json', '--', typed));
      expect(found).toMatchObject({ status: 'Set', lastSeenAt: new Date(SEEN_MS).toISOString(), userAgent: 'Firefox\u001b[31m', clientAddress: '203.0.113.9' });
      const human = (await cli('inspect', '--', typed)).stdout;
      expect(human).toMatch(new RegExp(`last seen at\\s+${new Date(SEEN_MS).toISOString()}\\n`));
      expect(human).toContain('"Firefox\\u001b[31m"');
      expect(human).toMatch(/address\s+203\.0\.113\.9/);

      const plain = await backend.generate({ value: 'not an envelope' });
      const other = jsonOf(await cli('inspect', '--json', '--', plain));
      for (const field of ['lastSeenAt', 'userAgent', 'clientAddress']) expect(other).not.toHaveProperty(field);
      expect((await cli('inspect', '--', plain)).stdout).not.toContain('last seen');
    });

    it('revoke --owner ID --list lists the sessions oldest first with their metadata and revokes nothing; an owner without any exits 1', async () => {
      const backend = await backendOf();
      const laptop = await backend.generate({ owner: 'noa', value: typedValue('noa', 'Laptop/1') });
      const old = await backend.generate({ owner: 'noa', value: encodeEnvelope({ createdAtMs: SEEN_MS, owner: 'noa', data: {} }) });
      const run = await cli('revoke', '--owner', 'noa', '--list', '--json');
      expect(run.code).toBe(0);
      const listed = jsonOf(run) as { store: string; owner: string; sessions: Array<Record<string, unknown>> };
      expect(listed.owner).toBe('noa');
      expect(listed.sessions.map((session) => session.keyDigest)).toEqual([digestKey(laptop), digestKey(old)]);
      expect(listed.sessions[0]).toMatchObject({ lastSeenAt: new Date(SEEN_MS).toISOString(), userAgent: 'Laptop/1', clientAddress: '203.0.113.9' });
      expect(typeof listed.sessions[0]!.expiresInSeconds).toBe('number');
      expect(listed.sessions[1]).not.toHaveProperty('lastSeenAt');
      expect(await backend.listByOwner('noa')).toHaveLength(2);

      const human = (await cli('revoke', '--owner', 'noa', '--list')).stdout;
      expect(human).toContain('Owner noa has 2 live sessions (nothing revoked):');
      expect(human).toContain(`Session with key digest ${digestKey(laptop)}`);
      expect(human).toMatch(/user agent\s+Laptop\/1/);
      const nobody = await cli('revoke', '--owner', 'nobody-here', '--list');
      expect(nobody.code).toBe(1);
      expect(nobody.stdout).toBe('Owner nobody-here has no live session.\n');
    });

    it('--list without --owner, or with --except, is a usage error (exit 2)', async () => {
      expect((await cli('revoke', '--list', 'bm90LWEtc2Vzc2lvbg')).code).toBe(2);
      expect((await cli('revoke', '--owner', 'noa', '--list', '--except', 'bm90LWEtc2Vzc2lvbg')).code).toBe(2);
    });
  });
}

describe.skipIf(postgresSkipReason !== undefined)(`on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(2);
  const table = `sk_climeta_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  afterAll(async () => {
    await dropTablesLike(pool, table);
    await pool.end();
  });
  describeMetadataCommands(
    'PostgreSQL',
    (...args) => runCli(['--table', table, ...args], { env: { DATABASE_URL } }),
    async () => {
      const backend = new PostgresBackend(pool, { table });
      await backend.ensureSchema();
      return backend;
    },
  );
});

describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const client = testClient();
  const prefix = `${uniquePrefix('climeta')}:`;
  afterAll(async () => {
    await deleteKeysWithPrefix(client, prefix);
    client.disconnect();
  });
  describeMetadataCommands('Redis', (...args) => runCli(['--prefix', prefix, ...args], { env: { REDIS_URL } }), async () => new RedisBackend(client, { prefix }));
});

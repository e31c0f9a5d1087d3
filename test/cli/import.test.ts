import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionkitStore } from '../../src/adapters/express-session/index.js';
import { storeKeyOfSessionId } from '../../src/adapters/express-session/session-id.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import type { CliIo } from '../../src/cli/command.js';
import { run } from '../../src/cli/run.js';
import type { Backend } from '../../src/core/contract.js';
import { digestKey } from '../../src/core/keys.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../support/postgres.js';
import { REDIS_URL, redisSkipReason, testClient, useTestRedis } from '../support/redis-env.js';

const SECRET = 'migration secret';

/** Runs `sessionkit ...argv` in this process; resolves to its exit code, stdout and stderr. */
async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stdin: (async function* () {})(), env: {} };
  const code = await run(argv, io);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}

/** An app on express-session with `store`: /count increments a counter and keeps a user name. */
function app(store: session.Store) {
  const created = express();
  created.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
  created.get('/count', (req, res) => {
    const data = req.session as unknown as { count?: number; user?: string };
    data.count = (data.count ?? 0) + 1;
    data.user = String(req.query.user);
    res.json({ count: data.count });
  });
  created.get('/read', (req, res) => {
    const data = req.session as unknown as { count?: number; user?: string };
    res.json({ count: data.count ?? null, user: data.user ?? null });
  });
  return created;
}
const cookieOf = (reply: request.Response) => ([] as string[]).concat(reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))!.split(';')[0]!;
const sidOfCookie = (cookie: string) => decodeURIComponent(cookie.slice('connect.sid='.length)).slice(2).split('.')[0]!;

/** Three users with 1, 2 and 3 requests on the source store; their cookies. */
async function liveSessions(store: session.Store): Promise<string[]> {
  const server = app(store);
  const cookies: string[] = [];
  for (const [index, user] of ['ada', 'grace', 'edsger'].entries()) {
    const cookie = cookieOf(await request(server).get(`/count?user=${user}`));
    for (let i = 0; i < index; i++) await request(server).get(`/count?user=${user}`).set('Cookie', cookie);
    cookies.push(cookie);
  }
  return cookies;
}

/** After the import, express-session with SessionkitStore answers each cookie with the data it had. */
async function expectSameAnswers(backend: Backend, cookies: string[]): Promise<void> {
  const server = app(new SessionkitStore(backend));
  const answers = await Promise.all(cookies.map(async (cookie) => (await request(server).get('/read').set('Cookie', cookie)).body));
  expect(answers).toEqual([
    { count: 1, user: 'ada' },
    { count: 2, user: 'grace' },
    { count: 3, user: 'edsger' },
  ]);
}

describe.skipIf(postgresSkipReason !== undefined)(`sessionkit import --from connect-pg-simple${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const prefix = `sk_import_${process.pid}_`;
  const table = () => uniqueTable('import').replace(/^sk_import_/, prefix);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('copies every live session with its expiry, skips and counts bad rows, is idempotent, and the cookies keep working', async () => {
    const sourceTable = table();
    const PgStore = connectPgSimple(session);
    const cookies = await liveSessions(new PgStore({ pool, tableName: sourceTable, createTableIfMissing: true }));
    await pool.query(`INSERT INTO "${sourceTable}" (sid, sess, expire) VALUES ('notAnObject1', '[1,2]', now() + interval '1 hour'), ('bad.id!', '{"a":1}', now() + interval '1 hour'), ('expiredLongAgo', '{"a":1}', now() - interval '1 hour')`);
    const destTable = table();
    const backend = new PostgresBackend(pool, { table: destTable });
    await backend.ensureSchema();
    const args = ['import', '--from', 'connect-pg-simple', '--from-table', sourceTable, '--database-url', DATABASE_URL, '--table', destTable, '--json'];

    const dry = await cli([...args, '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(7);
    expect(dry.json()).toMatchObject({ dryRun: true, read: 5, imported: 4, existing: 0, skipped: 1, skippedBy: { notAnObject: 1 } });
    expect((await backend.get(sidOfCookie(cookies[0]!))).ok).toBe(false);

    const first = await cli(args);
    expect(first.code).toBe(7);
    expect(first.json()).toMatchObject({ from: 'connect-pg-simple', dryRun: false, read: 5, imported: 4, existing: 0, skipped: 1, skippedBy: { notAnObject: 1 } });
    // An id that cannot be a key is where SessionkitStore looks for it.
    expect(await backend.get(storeKeyOfSessionId('bad.id!'))).toMatchObject({ ok: true, value: '{"a":1}' });
    const stored = await backend.get(sidOfCookie(cookies[0]!));
    expect(stored.ok && stored.period).toBeGreaterThan(3500);
    expect(stored.ok && stored.period).toBeLessThanOrEqual(3600);
    await expectSameAnswers(backend, cookies);

    const again = await cli(args);
    expect(again.json()).toMatchObject({ read: 5, imported: 0, existing: 4 });
    await expectSameAnswers(backend, cookies);

    // The cookie value as the browser holds it (s%3A<sid>.<signature>) names the imported session.
    const browserValue = cookies[2]!.slice('connect.sid='.length);
    expect(browserValue.startsWith('s%3A')).toBe(true);
    const inspected = await cli(['inspect', browserValue, '--database-url', DATABASE_URL, '--table', destTable, '--json']);
    expect(inspected.code).toBe(0);
    expect(inspected.json()).toMatchObject({ status: 'Set', keyDigest: digestKey(sidOfCookie(cookies[2]!)), note: expect.stringContaining("express-session's signed cookie") });
    expect(JSON.parse((inspected.json() as { value: string }).value)).toMatchObject({ count: 3, user: 'edsger' });
  });

  it('never stops at one row: a 2 MB session, an expiry beyond 2^31 s or never, and a non-object are skipped by reason; a rerun goes on past them', async () => {
    const sourceTable = table();
    await pool.query(`CREATE TABLE "${sourceTable}" (sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`);
    // 200 sessions in sid order; the bad ones sit among the first (a run that stops at one would stop there).
    await pool.query(`INSERT INTO "${sourceTable}" SELECT 's' || lpad(n::text, 3, '0'), json_build_object('n', n), now() + interval '1 hour' FROM generate_series(1, 200) AS n`);
    await pool.query(`UPDATE "${sourceTable}" SET sess = json_build_object('big', repeat('x', 2 * 1024 * 1024)) WHERE sid IN ('s010', 's150')`);
    await pool.query(`UPDATE "${sourceTable}" SET expire = now() + interval '100 years' WHERE sid = 's020'`);
    await pool.query(`UPDATE "${sourceTable}" SET expire = 'infinity' WHERE sid = 's030'`);
    await pool.query(`UPDATE "${sourceTable}" SET sess = '"just a string"' WHERE sid = 's040'`);
    await pool.query(`INSERT INTO "${sourceTable}" VALUES ('s05!', '{"n":0}', now() + interval '1 hour')`); // copied: any id is
    const destTable = table();
    const backend = new PostgresBackend(pool, { table: destTable });
    await backend.ensureSchema();
    const args = ['import', '--from', 'connect-pg-simple', '--from-table', sourceTable, '--database-url', DATABASE_URL, '--table', destTable, '--batch-size', '50'];

    const first = await cli([...args, '--json']);
    expect(first.code).toBe(7);
    expect(first.json()).toMatchObject({ read: 201, imported: 196, existing: 0, skipped: 5, skippedBy: { tooLarge: 2, expiryTooFar: 2, notAnObject: 1, unstorable: 0 } });
    expect(JSON.parse(first.stdout)).not.toHaveProperty('error');
    expect(await backend.get('s199')).toMatchObject({ ok: true, value: '{"n" : 199}' });
    expect(await backend.get('s010')).toEqual({ ok: false, error: 'NotFound' });

    const again = await cli(args);
    expect(again.code).toBe(7);
    expect(again.stdout).toMatch(/^Imported 0 of 201 live sessions .*; 196 already there, 0 expired meanwhile, 5 skipped \(1 not a JSON object, 2 larger than the store's maxValueBytes, 2 expiring beyond 2\^31 s or never; they stay in the source\)\.\n$/);
  });

  it('a source it cannot read is a clear error (exit 6), and a bad --from a usage error (exit 2)', async () => {
    const destTable = table();
    await new PostgresBackend(pool, { table: destTable }).ensureSchema();
    const missing = await cli(['import', '--from', 'connect-pg-simple', '--from-table', 'no_such_table_here', '--database-url', DATABASE_URL, '--table', destTable]);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toMatch(/cannot read the connect-pg-simple table "no_such_table_here".*--from-table/);
    const wrong = await cli(['import', '--from', 'connect-mongo', '--database-url', DATABASE_URL]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--from must be connect-pg-simple or connect-redis');
  });
});

describe.skipIf(redisSkipReason !== undefined)(`sessionkit import --from connect-redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const prefix = (name: string) => redis.prefix(name);

  it('copies every live session with its TTL, skips and counts bad keys, is idempotent, and the cookies keep working', async () => {
    const sourcePrefix = prefix('connect-redis');
    const nodeRedis = createClient({ url: REDIS_URL });
    await nodeRedis.connect();
    let cookies: string[];
    try {
      cookies = await liveSessions(new RedisStore({ client: nodeRedis, prefix: sourcePrefix }));
    } finally {
      await nodeRedis.quit();
    }
    await redis.client.set(`${sourcePrefix}notJson1`, '{broken', 'EX', 3600);
    await redis.client.set(`${sourcePrefix}bad.id!`, '{"a":1}', 'EX', 3600);
    const client = testClient();
    const backend = new RedisBackend(client, { prefix: prefix('dest') });
    try {
      const args = ['import', '--from', 'connect-redis', '--from-prefix', sourcePrefix, '--redis-url', REDIS_URL, '--prefix', backend.prefix, '--json'];
      const dry = await cli([...args, '--dry-run']);
      expect(dry.json()).toMatchObject({ dryRun: true, read: 5, imported: 4, skipped: 1, skippedBy: { notAnObject: 1 } });
      expect((await backend.get(sidOfCookie(cookies[1]!))).ok).toBe(false);

      const first = await cli(args);
      expect(first.code).toBe(7);
      expect(first.json()).toMatchObject({ from: 'connect-redis', read: 5, imported: 4, existing: 0, skipped: 1, skippedBy: { notAnObject: 1 } });
      expect(await backend.get(storeKeyOfSessionId('bad.id!'))).toMatchObject({ ok: true, value: '{"a":1}' });
      const stored = await backend.get(sidOfCookie(cookies[1]!));
      expect(stored.ok && stored.period).toBeGreaterThan(3500);
      await expectSameAnswers(backend, cookies);

      const again = await cli(args);
      expect(again.json()).toMatchObject({ imported: 0, existing: 4 });
    } finally {
      await client.quit();
    }
  });

  it('never stops at one key: a 2 MB session and an expiry beyond 2^31 s (TTL or cookie.expires) are skipped by reason; a rerun goes on past them', async () => {
    const sourcePrefix = prefix('connect-redis-bad');
    const pipeline = redis.client.pipeline();
    for (let n = 1; n <= 100; n++) pipeline.set(`${sourcePrefix}s${String(n).padStart(3, '0')}`, JSON.stringify({ n, cookie: {} }), 'EX', 3600);
    await pipeline.exec();
    await redis.client.set(`${sourcePrefix}s010`, JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) }), 'EX', 3600);
    await redis.client.set(`${sourcePrefix}s020`, '{"n":20}', 'EX', 3_000_000_000);
    await redis.client.set(`${sourcePrefix}s030`, JSON.stringify({ n: 30, cookie: { expires: '2200-01-01T00:00:00.000Z' } }));
    const client = testClient();
    const backend = new RedisBackend(client, { prefix: prefix('dest') });
    try {
      const args = ['import', '--from', 'connect-redis', '--from-prefix', sourcePrefix, '--redis-url', REDIS_URL, '--prefix', backend.prefix, '--batch-size', '10', '--json'];
      const first = await cli(args);
      expect(first.code).toBe(7);
      expect(first.json()).toMatchObject({ read: 100, imported: 97, existing: 0, skipped: 3, skippedBy: { tooLarge: 1, expiryTooFar: 2 } });
      expect(await backend.get('s099')).toMatchObject({ ok: true });
      expect(await backend.get('s020')).toEqual({ ok: false, error: 'NotFound' });
      const again = await cli(args);
      expect(again.code).toBe(7);
      expect(again.json()).toMatchObject({ read: 100, imported: 0, existing: 97, skipped: 3 });
    } finally {
      await client.quit();
    }
  });

  it('an unreachable source is exit 3 with the reason', async () => {
    const client = testClient();
    const backend = new RedisBackend(client, { prefix: prefix('dest') });
    try {
      const reply = await cli(['import', '--from', 'connect-redis', '--from-url', 'redis://127.0.0.1:1', '--redis-url', REDIS_URL, '--prefix', backend.prefix, '--timeout-ms', '1000']);
      expect(reply.code).toBe(3);
      expect(reply.stderr).toContain('cannot reach the source Redis');
    } finally {
      await client.quit();
    }
  });
});

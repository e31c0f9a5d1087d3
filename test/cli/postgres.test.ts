import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../src/backends/postgres/index.js';
import { digestKey } from '../../src/core/keys.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../support/postgres.js';
import { expectPeriodWithin, stopwatch } from '../support/elapsed.js';
import { isOneLineWithoutStack, jsonOf, runCli, runCliOnTerminal } from './support/run-cli.js';

const prefix = `sk_cli_${process.pid}_${Math.random().toString(36).slice(2, 6)}_`;
let tables = 0;
const newTable = () => `${prefix}${++tables}`;
/** How the command names the server in its messages. */
const server = `${new URL(DATABASE_URL).hostname}:${new URL(DATABASE_URL).port || 5432}${new URL(DATABASE_URL).pathname}`;

/** Nearest-rank percentile, computed here independently of PostgreSQL's percentile_disc. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

describe.skipIf(postgresSkipReason !== undefined)(`sessionkit on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const pool = testPool(4);
  const env = { DATABASE_URL };
  // Store options first: a test passes a key last, after "--", since a generated key may start with "-".
  const cli = (table: string, ...args: string[]) => runCli(['--table', table, ...args], { env });
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  const insertExpired = (table: string, count: number) =>
    pool.query(
      `INSERT INTO "${table}" (session_key, expire_date, session_data)
       SELECT substr(md5($1 || i::text) || md5(i::text), 1, 40), now() - interval '1 hour', 'old' FROM generate_series(1, $2::int) AS i`,
      [table, count],
    );
  const countRows = async (table: string, where: string) => Number((await pool.query(`SELECT count(*) AS n FROM "${table}" WHERE ${where}`)).rows[0].n);

  it('migrate creates a fresh table, then finds it up to date', async () => {
    const table = newTable();
    const first = await cli(table, 'migrate', '--json');
    expect(first.code).toBe(0);
    expect(jsonOf(first)).toEqual({ store: 'postgres', action: 'created', added: [] });
    const columns = await pool.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`, [`"${table}"`]);
    expect(columns.rows.map((row) => row.attname)).toEqual(['session_key', 'expire_date', 'session_data', 'owner', 'created_at', 'write_tokens']);
    const second = await cli(table, 'migrate');
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`PostgreSQL ${server}, table "${table}" is up to date.\n`);
  });

  it("migrate upgrades a table made with ocaml-session's DDL, after which owner features work", async () => {
    const table = newTable();
    await pool.query(ocamlSessionSchemaSql(`"${table}"`));
    const seedBackend = new PostgresBackend(pool, { table });
    const keep = await seedBackend.generate({ value: 'from before the migration' });

    const beforeRevoke = await cli(table, 'revoke', '--owner', 'alice');
    expect(beforeRevoke.code).toBe(5);
    expect(beforeRevoke.stderr).toContain(`: run sessionkit migrate --table ${table}\n`);
    expect(isOneLineWithoutStack(beforeRevoke.stderr)).toBe(true);
    const beforeStats = jsonOf(await cli(table, 'stats', '--json'));
    expect(beforeStats.owners).toBeNull();
    expect(beforeStats.notes).toEqual([expect.stringContaining(`run sessionkit migrate --table ${table}`)]);

    const migrated = await cli(table, 'migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(jsonOf(migrated)).toEqual({
      store: 'postgres',
      action: 'upgraded',
      added: ['column created_at', 'column owner', `index ${table}_expire_date_idx`, `index ${table}_owner_idx`],
    });

    const backend = new PostgresBackend(pool, { table });
    const owned = await Promise.all([backend.generate({ owner: 'alice' }), backend.generate({ owner: 'alice' }), backend.generate({ owner: 'bob' })]);
    const revoke = await cli(table, 'revoke', '--owner', 'alice', '--json');
    expect(revoke.code).toBe(0);
    expect(jsonOf(revoke)).toEqual({ store: 'postgres', owner: 'alice', revoked: 2, exceptKeyDigest: null });
    expect(await backend.get(owned[0]!)).toEqual({ ok: false, error: 'NotFound' });
    expect(await backend.get(owned[2]!)).toEqual({ ok: false, error: 'NotSet' });
    expect(await backend.get(keep)).toMatchObject({ ok: true, value: 'from before the migration' });
  });

  it('commands other than migrate on a missing table: exit 5, run migrate', async () => {
    const table = newTable();
    for (const args of [['stats'], ['purge'], ['inspect', 'abc'], ['revoke', 'abc']]) {
      const run = await cli(table, ...args);
      expect(run.code).toBe(5);
      // The hint is the command line to run, with the --table that was given.
      expect(run.stderr).toBe(`sessionkit: table "${table}" does not exist in ${server}: run sessionkit migrate --table ${table}\n`);
    }
  });

  it('purge deletes the expired rows in batches, keeps the live ones, and reports the count', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    await insertExpired(table, 25);
    const live = await Promise.all(Array.from({ length: 4 }, () => backend.generate({ value: 'live' })));

    const run = await cli(table, 'purge', '--batch-size', '10', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ store: 'postgres', deleted: 25, expiredBefore: 25 });
    expect(run.stderr).toBe(''); // --json off a terminal: no progress lines
    expect(await countRows(table, 'expire_date <= now()')).toBe(0);
    for (const key of live) expect(await backend.get(key)).toMatchObject({ ok: true, value: 'live' });

    const again = await cli(table, 'purge', '--json');
    expect(again.code).toBe(0);
    expect(jsonOf(again)).toMatchObject({ deleted: 0, expiredBefore: 0 });
  });

  it('purge off a terminal prints plain progress lines on stderr and a summary on stdout', async () => {
    const table = newTable();
    await new PostgresBackend(pool, { table }).ensureSchema();
    await insertExpired(table, 30);
    const run = await cli(table, 'purge', '--batch-size', '7');
    expect(run.code).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^purged 7\/30 \(23%\)$/);
    expect(lines.at(-1)).toBe('purged 30/30 (100%)');
    expect(run.stderr).not.toContain('\r');
    expect(run.stdout).toMatch(new RegExp(`^Deleted 30 expired sessions from PostgreSQL .*table "${table}" in \\d+ ms\\.\\n$`));
  });

  it('purge on a terminal draws a progress bar in place', async () => {
    const table = newTable();
    await new PostgresBackend(pool, { table }).ensureSchema();
    await insertExpired(table, 12);
    const run = await runCliOnTerminal(['purge', '--batch-size', '5', '--table', table], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\rpurged [');
    expect(run.stdout).toMatch(/\rpurged \[#+\] 100% 12\/12\r?\n/);
    expect(await countRows(table, 'true')).toBe(0);
  });

  it('stats: live and expired counts, sessions-per-owner percentiles, table size', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const perOwner = [1, 1, 2, 3, 3, 3, 5, 8, 13, 21];
    await Promise.all(perOwner.flatMap((count, i) => Array.from({ length: count }, () => backend.generate({ owner: `owner-${i}`, value: 'x' }))));
    await Promise.all(Array.from({ length: 6 }, () => backend.generate()));
    await insertExpired(table, 9);

    const run = await cli(table, 'stats', '--json');
    expect(run.code).toBe(0);
    const report = jsonOf(run);
    const sorted = [...perOwner].sort((a, b) => a - b);
    const owned = perOwner.reduce((a, b) => a + b, 0);
    expect(report).toMatchObject({
      store: 'postgres',
      live: owned + 6,
      expired: 9,
      owners: {
        owners: perOwner.length,
        sessionsWithOwner: owned,
        sessionsWithoutOwner: 6,
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: 21,
      },
      notes: [],
    });
    const size = report.sizeBytes as Record<string, number>;
    expect(size.table).toBeGreaterThan(0);
    expect(size.total).toBe(size.table! + size.indexes!);

    const text = await cli(table, 'stats');
    expect(text.stdout).toMatch(/live sessions\s+66\n/);
    expect(text.stdout).toMatch(/sessions per owner\s+p50 3 {2}p90 13 {2}p99 21 {2}max 21/);
  });

  it('stats with a libpq conninfo string in DATABASE_URL', async () => {
    const table = newTable();
    await new PostgresBackend(pool, { table }).ensureSchema();
    const url = new URL(DATABASE_URL);
    const conninfo = `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user=${decodeURIComponent(url.username)}`;
    const run = await runCli(['stats', '--json', '--table', table], { env: { DATABASE_URL: conninfo } });
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ live: 0, expired: 0 });
  });

  it('inspect: Set with value, period, owner and creation time; NotSet; NotFound (exit 1) for missing and expired', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const elapsed = stopwatch();
    const set = await backend.generate({ value: '{"userId":42}', owner: 'carol', expiry: 3600 });
    const notSet = await backend.generate({ expiry: 60 });
    await insertExpired(table, 1);
    const expiredKey = (await pool.query(`SELECT session_key FROM "${table}" WHERE expire_date <= now()`)).rows[0].session_key as string;

    const found = await cli(table, 'inspect', '--json', '--', set);
    expect(found.code).toBe(0);
    const report = jsonOf(found);
    expect(report).toMatchObject({ store: 'postgres', keyDigest: digestKey(set), status: 'Set', value: '{"userId":42}', owner: 'carol' });
    expectPeriodWithin(report.periodSeconds as number, 3600, elapsed);
    expect(Math.abs(Date.parse(String(report.createdAt)) - Date.now())).toBeLessThan(60_000);
    expect(found.stdout).not.toContain(set); // only the digest is shown

    const human = await cli(table, 'inspect', '--', set);
    expect(human.stdout).toMatch(/status\s+Set\n\s+value\s+\{"userId":42\}\n\s+expires in\s+\d+ s \((1 h|59 min( \d+ s)?)\)\n\s+owner\s+carol/);

    expect(jsonOf(await cli(table, 'inspect', '--json', '--', notSet))).toMatchObject({ status: 'NotSet', owner: null });
    const missing = await cli(table, 'inspect', 'bm90LWEtc2Vzc2lvbg', '--json');
    expect(missing.code).toBe(1);
    expect(jsonOf(missing)).toEqual({ store: 'postgres', keyDigest: digestKey('bm90LWEtc2Vzc2lvbg'), status: 'NotFound' });
    // The expired row's stored key is a digest already: inspect it unhashed.
    const expired = await cli(table, 'inspect', '--no-hash-keys', '--json', '--', expiredKey.trimEnd());
    expect(expired.code).toBe(1);
    expect(jsonOf(expired)).toMatchObject({ status: 'NotFound' });
  });

  it('inspect reads the key from stdin with "-"', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'via stdin' });
    const run = await runCli(['inspect', '-', '--json', '--table', table], { env, input: `${key}\n` });
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ status: 'Set', value: 'via stdin' });
    const empty = await runCli(['inspect', '-', '--table', table], { env, input: '' });
    expect(empty.code).toBe(2);
  });

  it('--no-hash-keys reads a table whose keys are stored as they are', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table, hashKeys: false });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'plain' });
    expect(jsonOf(await cli(table, 'inspect', '--no-hash-keys', '--json', '--', key))).toMatchObject({ status: 'Set', value: 'plain' });
    const hashed = await cli(table, 'inspect', '--json', '--', key);
    expect(hashed.code).toBe(1);
    // One generated key in 64 starts with "-": after "--" it is a key, not an option.
    await pool.query(`INSERT INTO "${table}" (session_key, expire_date, session_data) VALUES ('-dash', now() + interval '1 hour', 'dashed')`);
    expect(jsonOf(await cli(table, 'inspect', '--no-hash-keys', '--json', '--', '-dash'))).toMatchObject({ status: 'Set', value: 'dashed' });
  });

  it('revoke KEY ends the session (exit 0), then finds nothing (exit 1)', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const [victim, bystander] = await Promise.all([backend.generate({ value: 'a' }), backend.generate({ value: 'b' })]);
    const first = await cli(table, 'revoke', '--json', '--', victim);
    expect(first.code).toBe(0);
    expect(jsonOf(first)).toEqual({ store: 'postgres', keyDigest: digestKey(victim), revoked: true });
    expect(await backend.get(victim)).toEqual({ ok: false, error: 'NotFound' });
    expect(await backend.get(bystander)).toMatchObject({ ok: true, value: 'b' });
    const second = await cli(table, 'revoke', '--', victim);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('nothing to revoke');
  });

  it('revoke --owner ID --except KEY keeps one session; an owner without sessions exits 1', async () => {
    const table = newTable();
    const backend = new PostgresBackend(pool, { table });
    await backend.ensureSchema();
    const keys = await Promise.all(Array.from({ length: 4 }, () => backend.generate({ owner: 'dave' })));
    const other = await backend.generate({ owner: 'erin' });
    const run = await cli(table, 'revoke', '--owner', 'dave', `--except=${keys[0]!}`, '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({ store: 'postgres', owner: 'dave', revoked: 3, exceptKeyDigest: digestKey(keys[0]!) });
    expect((await backend.listByOwner('dave')).map((s) => s.keyDigest)).toEqual([digestKey(keys[0]!)]);
    expect(await backend.listByOwner('erin')).toHaveLength(1);
    expect(await backend.get(other)).toEqual({ ok: false, error: 'NotSet' });
    const nobody = await cli(table, 'revoke', '--owner', 'frank');
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toBe('Owner frank has no live session: nothing to revoke.\n');
  });

  it('a query the server refuses: exit 6 with the SQLSTATE and the server\'s reason, once, on one line', async () => {
    // The columns are there, but session_key is not text: the server refuses the comparison with a key.
    const table = newTable();
    await pool.query(`CREATE TABLE "${table}" (session_key int, expire_date timestamptz, session_data text)`);
    await pool.query(`INSERT INTO "${table}" VALUES (1, now() + interval '1 hour', 'x')`);
    const run = await cli(table, 'inspect', 'abc');
    expect(run.code).toBe(6);
    expect(run.stderr).toBe('sessionkit: PostgreSQL failed get (SQLSTATE 42883: operator does not exist: integer = character)\n');
  });

  it('a table that is not a session table: exit 6 naming the columns it lacks, before any command (migrate too) touches it', async () => {
    const table = newTable();
    await pool.query(`CREATE TABLE "${table}" (id int, expire_date timestamptz)`);
    for (const command of ['stats', 'migrate']) {
      const run = await cli(table, command);
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(`sessionkit: table "${table}" in ${server} is not a sessionkit table (it has no session_key, session_data column): name sessionkit's table with --table\n`);
    }
    const { rows } = await pool.query<{ name: string }>(`SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`, [`"${table}"`]);
    expect(rows.map((row) => row.name)).toEqual(['id', 'expire_date']);
  });

  it("connect-pg-simple's table: says whose it is, and the import that copies its sessions", async () => {
    const table = newTable();
    await pool.query(`CREATE TABLE "${table}" (sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`);
    for (const command of ['stats', 'migrate', 'inspect abc']) {
      const run = await cli(table, ...command.split(' '));
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(
        `sessionkit: table "${table}" in ${server} is connect-pg-simple's (sid, sess, expire), not a sessionkit table: keep it, and copy its sessions into a table of sessionkit's own with: sessionkit migrate --table ${table}_sessionkit && sessionkit import --from connect-pg-simple --from-table ${table} --table ${table}_sessionkit\n`,
      );
    }
  });

  it('a table that holds no session: a warning on stderr after the report, exit 0; --strict exits 1', async () => {
    const table = newTable();
    await new PostgresBackend(pool, { table }).ensureSchema();
    const run = await cli(table, 'stats', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ live: 0, expired: 0 });
    expect(run.stderr).toBe(`sessionkit: warning: PostgreSQL ${server}, table "${table}" holds no session at all: check --table; --strict makes this exit 1\n`);
    const strict = await cli(table, 'purge', '--strict', '--json');
    expect(strict.code).toBe(1);
    expect(jsonOf(strict)).toMatchObject({ deleted: 0 });
    expect(strict.stderr).toContain('holds no session at all');

    // One session, even an expired one, is not "nothing": no warning, and --strict is satisfied.
    await insertExpired(table, 1);
    const found = await cli(table, 'stats', '--strict');
    expect(found.code).toBe(0);
    expect(found.stderr).toBe('');
  });
});

// Bulk loading of big session tables, server-side, for the scale and pruning
// benchmarks. Keys are reproducible: session i has key benchKey(i), so a
// benchmark can pick a live session at random without keeping ten million
// keys in memory, and the database computes the same digests with sha256().
import { createHash } from 'node:crypto';
import pg from 'pg';
import { quoteTableName } from '../../src/backends/postgres/table-name.js';
import { digestKey } from '../../src/core/keys.js';
import { sessionJson } from './session-fixture.js';
export { sessionJson, sessionObject } from './session-fixture.js';

/** The `pg` connection every bench uses (DATABASE_URL, else the local server's `test` database). */
export const pgConnection: pg.ClientConfig = process.env.DATABASE_URL
  ? { connectionString: process.env.DATABASE_URL }
  : { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER ?? process.env.USER ?? 'postgres' };

/** The key of bench session `i`: base64url of sha256('bench' + i), cut to 40 characters. */
export function benchKey(i: number): string {
  return createHash('sha256').update(`bench${i}`).digest('base64url').slice(0, 40);
}

/** SQL for `benchKey(i)` of an integer expression. */
export const benchKeySql = (i: string) => `substr(translate(encode(sha256(convert_to('bench' || ${i}, 'UTF8')), 'base64'), '+/', '-_'), 1, 40)`;
/** SQL for `digestKey(key)` of a text expression (src/core/keys.ts). */
export const digestKeySql = (key: string) => `substr(translate(encode(sha256(convert_to(${key}, 'UTF8')), 'base64'), '+/', '-_'), 1, 40)`;


/** A pool of `max` connections with an error listener (an idle client's error must not crash the bench). */
export function newPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ ...pgConnection, max });
  pool.on('error', (error) => console.error('idle pool client failed:', error.message));
  return pool;
}

/** Checks on a few keys that the SQL digest equals `digestKey` (the whole load depends on it). */
export async function assertSqlDigestMatches(pool: pg.Pool): Promise<void> {
  const ids = [0, 1, 42, 9_999_999];
  const { rows } = await pool.query<{ i: number; key: string; digest: string }>(
    `SELECT i, ${benchKeySql('i')} AS key, ${digestKeySql(benchKeySql('i'))} AS digest FROM unnest($1::int[]) AS i`,
    [ids],
  );
  for (const row of rows) {
    if (row.key !== benchKey(row.i) || row.digest !== digestKey(benchKey(row.i))) {
      throw new Error(`SQL digest of bench key ${row.i} differs from digestKey: ${row.digest} vs ${digestKey(benchKey(row.i))}`);
    }
  }
}

/** Rows to load: ids [from, to) with an expiry spread in [fromSeconds, toSeconds) from now (negative: already expired). */
export interface RowRange {
  from: number;
  to: number;
  expiresInSeconds: [number, number];
}

const CHUNK = 1_000_000;

/** Runs `insertSql(from, to)` in chunks of a million ids, printing progress for big loads. */
async function inChunks(pool: pg.Pool, range: RowRange, label: string, insertSql: string): Promise<void> {
  const [lo, hi] = range.expiresInSeconds;
  for (let from = range.from; from < range.to; from += CHUNK) {
    const to = Math.min(range.to, from + CHUNK);
    const started = performance.now();
    await pool.query(insertSql, [from, to - 1, lo, hi - lo, sessionJson]);
    if (range.to - range.from > CHUNK) console.error(`  ${label}: ${to - range.from}/${range.to - range.from} rows (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}

// Spreads expiry over [lo, lo + span) seconds with a cheap hash of i, so the expire_date index is not in key order.
const expirySql = (i: string) => `now() + make_interval(secs => $3::int + ((${i}::bigint * 2654435761) % greatest($4::int, 1)))`;

/**
 * Creates sessionkit's table (the DDL of src/backends/postgres/schema.ts) with
 * `ranges` of rows, loading before building the indexes (a sorted index build
 * is much faster than ten million random inserts), then VACUUM ANALYZE.
 */
export async function loadSessionkitTable(pool: pg.Pool, table: string, ranges: RowRange[]): Promise<void> {
  const quoted = quoteTableName(table);
  await pool.query(`DROP TABLE IF EXISTS ${quoted}`);
  await pool.query(`CREATE TABLE ${quoted} (session_key char(40), expire_date timestamp(2) with time zone, session_data text)`);
  for (const range of ranges) {
    await inChunks(pool, range, table, `INSERT INTO ${quoted} (session_key, expire_date, session_data)
      SELECT ${digestKeySql(benchKeySql('i'))}, ${expirySql('i')}, $5::text FROM generate_series($1::int, $2::int) AS i`);
  }
  await buildIndexes(pool, [`ALTER TABLE ${quoted} ADD PRIMARY KEY (session_key)`, `CREATE INDEX "${table}_expire_date_idx" ON ${quoted} (expire_date)`]);
  await pool.query(`VACUUM ANALYZE ${quoted}`);
}

/** Creates connect-pg-simple's table (its table.sql) with `ranges` of rows; the sid is the bench key itself, as express-session stores it. */
export async function loadConnectPgSimpleTable(pool: pg.Pool, table: string, ranges: RowRange[]): Promise<void> {
  const quoted = quoteTableName(table);
  await pool.query(`DROP TABLE IF EXISTS ${quoted}`);
  await pool.query(`CREATE TABLE ${quoted} (sid varchar NOT NULL COLLATE "default", sess json NOT NULL, expire timestamp(6) NOT NULL)`);
  for (const range of ranges) {
    await inChunks(pool, range, table, `INSERT INTO ${quoted} (sid, sess, expire)
      SELECT ${benchKeySql('i')}, $5::json, ${expirySql('i')} FROM generate_series($1::int, $2::int) AS i`);
  }
  await buildIndexes(pool, [`ALTER TABLE ${quoted} ADD CONSTRAINT "${table}_pkey" PRIMARY KEY (sid)`, `CREATE INDEX "${table}_expire" ON ${quoted} (expire)`]);
  await pool.query(`VACUUM ANALYZE ${quoted}`);
}

async function buildIndexes(pool: pg.Pool, statements: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET maintenance_work_mem = '512MB'`);
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.query('RESET maintenance_work_mem').catch(() => undefined);
    client.release();
  }
}

/** Table, index and TOAST bytes of `table` (pg_total_relation_size) and its parts. */
export async function tableSize(pool: pg.Pool, table: string): Promise<{ totalBytes: number; heapBytes: number; indexBytes: number; rows: number }> {
  const quoted = quoteTableName(table);
  const { rows } = await pool.query<{ total: string; heap: string; index: string; rows: string }>(
    `SELECT pg_total_relation_size($1::regclass) AS total, pg_relation_size($1::regclass) AS heap,
            pg_indexes_size($1::regclass) AS index, (SELECT count(*) FROM ${quoted}) AS rows`,
    [quoted],
  );
  const row = rows[0]!;
  return { totalBytes: Number(row.total), heapBytes: Number(row.heap), indexBytes: Number(row.index), rows: Number(row.rows) };
}

/** The plan nodes of a statement, one line each (EXPLAIN's text format). */
export interface Plan {
  mode: 'generic' | 'custom';
  batchSize: number;
  lines: string[];
  /** The access path to the table: 'Index Scan', 'Bitmap Heap Scan', 'Seq Scan', ... */
  access: string;
}

/**
 * EXPLAINs `statementText` (whose one parameter is a char(40)[] of keys) for a
 * batch of `keys`, as the generic plan (what a prepared statement settles on
 * after five runs, PostgreSQL 15 having no EXPLAIN (GENERIC_PLAN)) or the
 * custom plan for those values.
 */
export async function explainBatch(pool: pg.Pool, statementText: string, keys: string[], mode: 'generic' | 'custom'): Promise<Plan> {
  const client = await pool.connect();
  try {
    await client.query(`SET plan_cache_mode = ${mode === 'generic' ? 'force_generic_plan' : 'force_custom_plan'}`);
    await client.query(`PREPARE bench_explain(char(40)[]) AS ${statementText}`);
    // EXPLAIN takes no bind parameters: the keys (base64url only, checked) go in as a literal.
    if (!keys.every((key) => /^[A-Za-z0-9_-]+$/.test(key))) throw new TypeError('explainBatch takes base64url keys only');
    const literal = `ARRAY[${keys.map((key) => `'${key}'`).join(',')}]::char(40)[]`;
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE bench_explain(${literal})`);
    const lines = rows.map((row) => row['QUERY PLAN'].replace(/'\{[^}']*\}'/g, `'{${keys.length} keys}'`));
    const access = lines.map((line) => /(Index Only Scan|Index Scan|Bitmap Heap Scan|Seq Scan)/.exec(line)?.[1]).find((x) => x !== undefined) ?? 'unknown';
    return { mode, batchSize: keys.length, lines, access };
  } finally {
    await client.query('DEALLOCATE ALL; RESET plan_cache_mode').catch(() => undefined);
    client.release();
  }
}

/** A fast deterministic pseudo-random sequence (mulberry32), so runs pick the same sessions. */
export function randomInts(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

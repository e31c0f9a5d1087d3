// A purge of a million expired rows beside a steady get/set
// load, for sessionkit (batched DELETEs, SKIP LOCKED) and connect-pg-simple
// (one unbounded DELETE), each on its own table, under the same load shape.
import { promisify } from 'node:util';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { SessionData } from 'express-session';
import pg from 'pg';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { PURGE_STATEMENT_TARGET_MS } from '../../src/backends/postgres/pruner.js';
import { statementsFor } from '../../src/backends/postgres/statements.js';
import { quoteTableName } from '../../src/backends/postgres/table-name.js';
import { digestKey } from '../../src/core/keys.js';
import { quantileOfSorted, sleep, startLoad, windowStats, type WindowStats } from './load.js';
import {
  benchKey,
  explainBatch,
  loadConnectPgSimpleTable,
  loadSessionkitTable,
  newPool,
  pgConnection,
  randomInts,
  sessionJson,
  sessionObject,
  tableSize,
  type Plan,
} from './scale-data.js';

export interface PruneOptions {
  live: number;
  expired: number;
  inFlight: number;
  baselineMs: number;
  batchSize: number;
  poolMax: number;
}

/** What one library's purge did to the load beside it. */
export interface PruneResult {
  library: string;
  table: string;
  live: number;
  expired: number;
  /** How the purge ran: purgeExpired and its batch sizing, or the single DELETE. */
  method: string;
  purgeMs: number;
  deletedRows: number;
  statements: number;
  /** Longest purge statement, client-measured: bounds how long it held its row locks. */
  longestStatementMs: number;
  /** Median and 99th percentile of the purge statements' durations, and how many took 100 ms or more. */
  statementP50Ms: number;
  statementP99Ms: number;
  statementsOver100Ms: number;
  /** Longest active DELETE seen in pg_stat_activity (sampled every 20 ms). */
  longestActiveDeleteSampledMs: number;
  /** Most lock waits seen at once among sessions touching this table (sampled). */
  maxLockWaiters: number;
  get: { before: WindowStats; during: WindowStats };
  set: { before: WindowStats; during: WindowStats };
  errors: number;
  expiredLeft: number;
  bytesBefore: number;
  bytesAfter: number;
  /** sessionkit only: the get statement's plan after the purge, before any VACUUM (autovacuum may be off). */
  plansAfterPurge?: Plan[];
}

interface Subject {
  library: string;
  table: string;
  pool: pg.Pool;
  /** The connection the purge runs on, apart from the load's pool (as sessionkit's Pruner holds one), so that its statements are timed without queueing behind the load. */
  purgeDb: pg.Pool | pg.Client;
  method: string;
  load(options: PruneOptions): Promise<void>;
  get(i: number): Promise<void>;
  set(i: number): Promise<void>;
  /** Runs the purge; resolves to the rows deleted. */
  purge(): Promise<number>;
  isPurgeStatement(text: string, name: string | undefined): boolean;
  expiredLeft(): Promise<number>;
  close(): Promise<void>;
}

function sessionkitSubject(options: PruneOptions): Subject {
  const table = 'bench_scale_prune_sessionkit';
  const pool = newPool(options.poolMax);
  const backend = new PostgresBackend(pool, { table });
  const purgeDb = new pg.Client(pgConnection);
  const purger = new PostgresBackend(purgeDb, { table });
  const pickLive = randomInts(7);
  return {
    library: 'sessionkit',
    table,
    pool,
    purgeDb,
    method: `purgeExpired({ batchSize: ${options.batchSize} }): batches from 100 rows up, sized to ${PURGE_STATEMENT_TARGET_MS} ms a statement`,
    load: (o) => loadSessionkitTable(pool, table, [
      { from: 0, to: o.live, expiresInSeconds: [86_400, 604_800] },
      { from: 100_000_000, to: 100_000_000 + o.expired, expiresInSeconds: [-172_800, -60] },
    ]),
    async get() {
      const result = await backend.get(benchKey(pickLive(options.live)));
      if (!result.ok) throw new Error('sessionkit: live session not found');
    },
    set: () => backend.set(benchKey(pickLive(options.live)), sessionJson),
    async purge() {
      await purgeDb.connect();
      return purger.purgeExpired({ batchSize: options.batchSize });
    },
    isPurgeStatement: (_text, name) => name?.startsWith('sessionkit_purge') === true,
    async expiredLeft() {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTableName(table)} WHERE expire_date <= now()`);
      return Number(rows[0]!.n);
    },
    async close() {
      await backend.close();
      await purger.close();
      await purgeDb.end();
    },
  };
}

function connectPgSimpleSubject(options: PruneOptions): Subject {
  const table = 'bench_scale_prune_connect_pg_simple';
  const pool = newPool(options.poolMax);
  const PGStore = connectPgSimple(session);
  const store = new PGStore({ pool, tableName: table, createTableIfMissing: false, pruneSessionInterval: false });
  const get = promisify(store.get.bind(store));
  const set = promisify(store.set.bind(store)) as (sid: string, sess: SessionData) => Promise<void>;
  const purgeDb = newPool(1);
  const pruner = new PGStore({ pool: purgeDb, tableName: table, createTableIfMissing: false, pruneSessionInterval: false });
  const pickLive = randomInts(7);
  return {
    library: 'connect-pg-simple',
    table,
    pool,
    purgeDb,
    method: 'pruneSessions(): one DELETE ... WHERE expire < to_timestamp($1)',
    load: (o) => loadConnectPgSimpleTable(pool, table, [
      { from: 0, to: o.live, expiresInSeconds: [86_400, 604_800] },
      { from: 100_000_000, to: 100_000_000 + o.expired, expiresInSeconds: [-172_800, -60] },
    ]),
    async get() {
      if (!(await get(benchKey(pickLive(options.live))))) throw new Error('connect-pg-simple: live session not found');
    },
    set: () => set(benchKey(pickLive(options.live)), sessionObject() as unknown as SessionData),
    purge: () =>
      new Promise<number>((resolve, reject) => {
        pruner.pruneSessions((error?: Error | null) => (error ? reject(error) : resolve(options.expired)));
      }),
    isPurgeStatement: (text) => text.startsWith('DELETE FROM'),
    async expiredLeft() {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTableName(table)} WHERE expire < now()::timestamp`);
      return Number(rows[0]!.n);
    },
    async close() {
      await store.close();
      await pruner.close();
      await purgeDb.end();
    },
  };
}

/** Times every purge statement that goes through `db.query`. */
function timePurgeStatements(pool: pg.Pool | pg.Client, isPurge: Subject['isPurgeStatement']): number[] {
  const durations: number[] = [];
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string; name?: string };
    const text = typeof first === 'string' ? first : first?.text ?? '';
    const name = typeof first === 'string' ? undefined : first?.name;
    const result = original(...args);
    if (isPurge(text, name) && result instanceof Promise) {
      const started = performance.now();
      void result.then(() => durations.push(performance.now() - started), () => durations.push(performance.now() - started));
    }
    return result;
  };
  return durations;
}

/** Samples lock waits on `table` and the age of the longest active DELETE on it, every 20 ms, until stopped. */
async function monitor(table: string): Promise<{ stop(): Promise<{ maxWaiters: number; longestDeleteMs: number }> }> {
  const client = new pg.Client(pgConnection);
  await client.connect();
  let stopped = false;
  let maxWaiters = 0;
  let longestDeleteMs = 0;
  const pattern = `%${table}%`;
  const sampling = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ waiters: string; longest: number | null }>(
        `SELECT (SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.query LIKE $1) AS waiters,
                (SELECT max(extract(epoch FROM clock_timestamp() - query_start)) * 1000 FROM pg_stat_activity
                  WHERE state = 'active' AND query LIKE $1 AND query ~* 'delete' AND pid <> pg_backend_pid()) AS longest`,
        [pattern],
      );
      maxWaiters = Math.max(maxWaiters, Number(rows[0]!.waiters));
      longestDeleteMs = Math.max(longestDeleteMs, Number(rows[0]!.longest ?? 0));
      await sleep(20);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      await client.end();
      return { maxWaiters, longestDeleteMs };
    },
  };
}

async function pruneOne(subject: Subject, options: PruneOptions, keep: boolean): Promise<PruneResult> {
  const { library, table, pool } = subject;
  console.error(`prune: loading ${library} (${options.live} live + ${options.expired} expired rows)`);
  await subject.load(options);
  const before = await tableSize(pool, table);
  const durations = timePurgeStatements(subject.purgeDb, subject.isPurgeStatement);
  const watch = await monitor(table);
  const load = startLoad({ inFlight: options.inFlight, ops: { get: [3, (i) => subject.get(i)], set: [1, (i) => subject.set(i)] } });
  await sleep(1000);
  const baselineFrom = performance.now();
  await sleep(options.baselineMs);
  const purgeFrom = performance.now();
  console.error(`prune: ${library} purging under load`);
  const deletedRows = await subject.purge();
  const purgeTo = performance.now();
  await sleep(500);
  const samples = await load.stop();
  const { maxWaiters, longestDeleteMs } = await watch.stop();
  const stats = (name: string) => ({
    before: windowStats(samples.get(name)!, baselineFrom, purgeFrom),
    during: windowStats(samples.get(name)!, purgeFrom, purgeTo),
  });
  const sortedDurations = [...durations].sort((a, b) => a - b);
  const result: PruneResult = {
    library,
    table,
    live: options.live,
    expired: options.expired,
    method: subject.method,
    purgeMs: purgeTo - purgeFrom,
    deletedRows,
    statements: durations.length,
    longestStatementMs: Math.max(0, ...durations),
    statementP50Ms: quantileOfSorted(sortedDurations, 0.5),
    statementP99Ms: quantileOfSorted(sortedDurations, 0.99),
    statementsOver100Ms: durations.filter((ms) => ms >= 100).length,
    longestActiveDeleteSampledMs: longestDeleteMs,
    maxLockWaiters: maxWaiters,
    get: stats('get'),
    set: stats('set'),
    errors: samples.get('get')!.errors + samples.get('set')!.errors,
    expiredLeft: await subject.expiredLeft(),
    bytesBefore: before.totalBytes,
    bytesAfter: (await tableSize(pool, table)).totalBytes,
  };
  if (library === 'sessionkit') {
    const getText = statementsFor(quoteTableName(table), 'bench').getMany.text;
    const keys = Array.from({ length: 32 }, (_, i) => digestKey(benchKey(i * 3)));
    result.plansAfterPurge = [await explainBatch(pool, getText, keys, 'generic'), await explainBatch(pool, getText, keys, 'custom')];
  }
  await subject.close();
  if (!keep) await pool.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`);
  await pool.end();
  console.error(`prune: ${library} purged ${deletedRows} rows in ${(result.purgeMs / 1000).toFixed(1)} s; get p99 ${result.get.before.p99Ms.toFixed(2)} → ${result.get.during.p99Ms.toFixed(2)} ms; longest statement ${result.longestStatementMs.toFixed(0)} ms (p50 ${result.statementP50Ms.toFixed(1)}, p99 ${result.statementP99Ms.toFixed(1)}, ${result.statementsOver100Ms} at 100 ms or more)`);
  return result;
}

/** Runs the pruning scenario for sessionkit, then connect-pg-simple, in the same run. */
export async function pruneUnderLoad(options: PruneOptions, keep = false): Promise<PruneResult[]> {
  const results: PruneResult[] = [];
  for (const make of [sessionkitSubject, connectPgSimpleSubject]) results.push(await pruneOne(make(options), options, keep));
  return results;
}

/** The tables this scenario creates, for cleanup after an interruption. */
export const pruneTables = ['bench_scale_prune_sessionkit', 'bench_scale_prune_connect_pg_simple'];

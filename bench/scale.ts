// `npm run bench -- scale [--sizes 1e4,1e5,1e6,1e7] [--redis-sizes 1e4,1e6] [--parts sizes,redis,prune]
//                         [--seconds 5] [--rounds 2] [--in-flight 64] [--prune-live 1e5] [--prune-expired 1e6]
//                         [--batch-size 1000] [--keep]`
//
// `sizes`: get and set latency and throughput of
// PostgresBackend at `--in-flight` with 10^4 … 10^7 live sessions, each size
// in a table of its own (bench_scale_<n>) loaded server-side with INSERT …
// SELECT … generate_series, indexes built after the load, then VACUUM
// ANALYZE; bytes per session; the plan of the get statement (generic and
// custom, for a batch of 32 keys: the backend's MAX_BATCH_SIZE). `redis`: the
// same for RedisBackend, loaded with pipelined SETs. `prune`: a purge of a
// million expired rows beside a steady get/set load, sessionkit against
// connect-pg-simple (bench/lib/prune-under-load.ts). Sessions are picked at
// random (a seeded generator) over the whole table, so big tables are read
// cold. Every table and Redis key is dropped at the end unless --keep.
//
// Results: bench/results/scale.json (sizes, redis) and bench/results/prune.json.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresBackend } from '../src/backends/postgres/index.js';
import { statementsFor } from '../src/backends/postgres/statements.js';
import { quoteTableName } from '../src/backends/postgres/table-name.js';
import { RedisBackend } from '../src/backends/redis/index.js';
import type { Backend } from '../src/core/contract.js';
import { digestKey } from '../src/core/keys.js';
import { spreadOf, type Spread } from './lib/markdown.js';
import { measure, type Measurement } from './lib/measure.js';
import { saveResults } from './lib/report.js';
import { pruneTables, pruneUnderLoad, type PruneResult } from './lib/prune-under-load.js';
import { assertSqlDigestMatches, benchKey, explainBatch, loadSessionkitTable, newPool, pgConnection, randomInts, sessionJson, tableSize, type Plan } from './lib/scale-data.js';

const POOL_MAX = 10;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PREFIX = 'bench_scale:';
const PARTS = ['sizes', 'redis', 'prune'] as const;

/** One store at one size: the measured cells and their spread over rounds. */
export interface SizeResult {
  store: 'postgres' | 'redis';
  sessions: number;
  loadSeconds: number;
  bytesPerSession: number;
  /** PostgreSQL: heap and index bytes; Redis: used_memory growth. */
  sizeDetail: Record<string, number>;
  plans: Plan[];
  cells: Measurement[];
  /** Failed operations by BackendError code and the driver's SQLSTATE (e.g. 'query_failed 40P01': a deadlock). */
  errorCodes: Record<string, number>;
  summary: Record<'get' | 'set', { opsPerSecond: Spread; p50Ms: Spread; p99Ms: Spread }>;
}

function summarize(cells: Measurement[]): SizeResult['summary'] {
  const of = (operation: 'get' | 'set') => {
    const mine = cells.filter((c) => c.operation === operation);
    return { opsPerSecond: spreadOf(mine.map((c) => c.opsPerSecond)), p50Ms: spreadOf(mine.map((c) => c.p50Ms)), p99Ms: spreadOf(mine.map((c) => c.p99Ms)) };
  };
  return { get: of('get'), set: of('set') };
}

const parseCount = (text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new TypeError(`not a positive count: ${text}`);
  return n;
};
const parseCounts = (text: string) => (text.trim() === '' ? [] : text.split(',').map(parseCount));
const exponent = (n: number) => (Number.isInteger(Math.log10(n)) ? `10^${Math.log10(n)}` : n.toLocaleString('en-US'));

interface CellOptions {
  store: 'postgres' | 'redis';
  sessions: number;
  rounds: number;
  inFlight: number;
  durationMs: number;
  get: (key: string) => Promise<unknown>;
  set: (key: string) => Promise<unknown>;
}

/** Rounds of get then set, each on sessions picked at random over all `sessions`. */
async function measureCells(o: CellOptions, errorCodes: Record<string, number>): Promise<Measurement[]> {
  const cells: Measurement[] = [];
  const tally = (error: unknown) => {
    const e = error as { code?: unknown; cause?: { code?: unknown } };
    const code = [e?.code, e?.cause?.code].filter((part) => part !== undefined).join(' ') || 'other';
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    throw error;
  };
  const pick = randomInts(o.sessions);
  for (let round = 0; round < o.rounds; round++) {
    for (const operation of ['get', 'set'] as const) {
      const run = operation === 'get' ? o.get : o.set;
      const cell = await measure({
        library: `${o.store} ${exponent(o.sessions)}`,
        operation,
        inFlight: o.inFlight,
        durationMs: o.durationMs,
        warmupMs: 1000,
        op: () => run(benchKey(pick(o.sessions))).catch(tally),
      });
      console.error(`${o.store} ${exponent(o.sessions)} ${operation}: ${Math.round(cell.opsPerSecond)} ops/s, p50 ${cell.p50Ms.toFixed(2)} ms, p99 ${cell.p99Ms.toFixed(2)} ms, ${cell.errors} errors`);
      cells.push(cell);
    }
  }
  return cells;
}

async function postgresSize(pool: pg.Pool, sessions: number, o: Omit<CellOptions, 'store' | 'sessions' | 'get' | 'set'>, keep: boolean): Promise<SizeResult> {
  const table = `bench_scale_${sessions}`;
  console.error(`postgres: loading ${sessions} sessions into ${table}`);
  const started = performance.now();
  await loadSessionkitTable(pool, table, [{ from: 0, to: sessions, expiresInSeconds: [86_400, 604_800] }]);
  const loadSeconds = (performance.now() - started) / 1000;
  const size = await tableSize(pool, table);
  const backend = new PostgresBackend(pool, { table });
  await backend.ensureSchema(); // a no-op on the loaded table: proves it has the backend's schema
  const getText = statementsFor(quoteTableName(table), 'bench').getMany.text;
  const pick = randomInts(99);
  const batch = Array.from({ length: 32 }, () => digestKey(benchKey(pick(sessions))));
  const plans = [await explainBatch(pool, getText, batch, 'generic'), await explainBatch(pool, getText, batch, 'custom')];
  console.error(`postgres ${exponent(sessions)}: loaded in ${loadSeconds.toFixed(1)} s, ${(size.totalBytes / sessions).toFixed(0)} bytes/session, get plan: ${plans.map((p) => `${p.mode} ${p.access}`).join(', ')}`);
  const errorCodes: Record<string, number> = {};
  const cells = await measureGetAndSet(backend, { ...o, store: 'postgres', sessions }, errorCodes);
  await backend.close();
  if (!keep) await pool.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`);
  return {
    store: 'postgres',
    sessions,
    loadSeconds,
    bytesPerSession: size.totalBytes / sessions,
    sizeDetail: { heapBytes: size.heapBytes, indexBytes: size.indexBytes, totalBytes: size.totalBytes },
    plans,
    cells,
    errorCodes,
    summary: summarize(cells),
  };
}

/** Get and set cells of one backend: a get must find the session with a value. */
function measureGetAndSet(backend: Backend, o: Omit<CellOptions, 'get' | 'set'>, errorCodes: Record<string, number>) {
  return measureCells(
    {
      ...o,
      async get(key) {
        const result = await backend.get(key);
        if (!result.ok) throw new Error(`get: ${result.error}`);
      },
      set: (key) => backend.set(key, sessionJson),
    },
    errorCodes,
  );
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

/** Deletes every key under the bench prefix (SCAN + UNLINK: never KEYS on a shared server). */
async function clearRedisPrefix(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

async function redisSize(redis: Redis, sessions: number, o: Omit<CellOptions, 'store' | 'sessions' | 'get' | 'set'>, keep: boolean): Promise<SizeResult> {
  await clearRedisPrefix(redis);
  const memoryBefore = await usedMemory(redis);
  console.error(`redis: loading ${sessions} sessions under ${REDIS_PREFIX}`);
  const started = performance.now();
  const backend = new RedisBackend(redis, { prefix: REDIS_PREFIX });
  // docs/redis.md: the expiry instant (server ms), then '=' + value; the key expires at that same instant.
  const [serverSeconds, serverMicros] = await redis.time();
  const serverNowMs = Number(serverSeconds) * 1000 + Math.floor(Number(serverMicros) / 1000);
  for (let from = 0; from < sessions; from += 10_000) {
    const pipeline = redis.pipeline();
    for (let i = from; i < Math.min(sessions, from + 10_000); i++) {
      const expiresAtMs = serverNowMs + (86_400 + (i % 518_400)) * 1000;
      pipeline.set(backend.redisKey(benchKey(i)), `${expiresAtMs}=${sessionJson}`, 'PXAT', expiresAtMs);
    }
    await pipeline.exec();
  }
  const loadSeconds = (performance.now() - started) / 1000;
  const memoryAfter = await usedMemory(redis);
  const probe = await backend.get(benchKey(sessions - 1));
  if (!probe.ok || probe.value !== sessionJson) throw new Error('redis: a loaded session does not read back');
  const errorCodes: Record<string, number> = {};
  const cells = await measureGetAndSet(backend, { ...o, store: 'redis', sessions }, errorCodes);
  await backend.close();
  if (!keep) await clearRedisPrefix(redis);
  return {
    store: 'redis',
    sessions,
    loadSeconds,
    bytesPerSession: (memoryAfter - memoryBefore) / sessions,
    sizeDetail: { usedMemoryBefore: memoryBefore, usedMemoryAfter: memoryAfter },
    plans: [],
    cells,
    errorCodes,
    summary: summarize(cells),
  };
}

/** `npm run bench -- scale`: see the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: 'string', default: '1e4,1e5,1e6,1e7' },
      'redis-sizes': { type: 'string', default: '1e4,1e6' },
      parts: { type: 'string', default: PARTS.join(',') },
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      'in-flight': { type: 'string', default: '64' },
      'prune-live': { type: 'string', default: '1e5' },
      'prune-expired': { type: 'string', default: '1e6' },
      'prune-baseline-seconds': { type: 'string', default: '5' },
      'batch-size': { type: 'string', default: '1000' },
      keep: { type: 'boolean', default: false },
    },
  });
  const parts = values.parts.split(',');
  if (parts.some((part) => !(PARTS as readonly string[]).includes(part))) throw new TypeError(`--parts takes ${PARTS.join(',')}`);
  const sizes = parseCounts(values.sizes).sort((a, b) => a - b);
  const redisSizes = parseCounts(values['redis-sizes']).sort((a, b) => a - b);
  const cell = { rounds: parseCount(values.rounds), inFlight: parseCount(values['in-flight']), durationMs: Number(values.seconds) * 1000 };
  if (!(cell.durationMs > 0)) throw new TypeError('--seconds must be positive');
  const keep = values.keep;
  const command = `npm run bench -- scale ${args.join(' ')}`.trim();

  const pool = newPool(POOL_MAX);
  // On Ctrl-C, drop the big tables from a connection of its own: disk matters.
  const onSignal = () => {
    const client = new pg.Client(pgConnection);
    void client
      .connect()
      .then(async () => {
        const { rows } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'bench\\_scale\\_%'`);
        for (const { name } of rows) await client.query(`DROP TABLE IF EXISTS ${quoteTableName(name)}`);
      })
      .catch((error: unknown) => console.error('dropping the bench tables failed:', error))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    const { rows } = await pool.query<{ version: string; autovacuum: string }>(`SELECT current_setting('server_version') AS version, current_setting('autovacuum') AS autovacuum`);
    const server = `PostgreSQL ${rows[0]!.version}`;
    const autovacuum = rows[0]!.autovacuum;
    if (parts.includes('sizes') || parts.includes('redis')) {
      await assertSqlDigestMatches(pool);
      const results: SizeResult[] = [];
      if (parts.includes('sizes')) for (const sessions of sizes) results.push(await postgresSize(pool, sessions, cell, keep));
      let redisGap: string | undefined;
      if (parts.includes('redis')) {
        const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        redis.on('error', (error: Error) => console.error('ioredis:', error.message));
        try {
          const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
          redisGap = `Redis ${version}`;
          for (const sessions of redisSizes) results.push(await redisSize(redis, sessions, cell, keep));
        } finally {
          redis.disconnect();
        }
      }
      const pg = results.filter((r) => r.store === 'postgres');
      const smallest = pg[0];
      const largest = pg[pg.length - 1];
      const target =
        smallest && largest && smallest !== largest
          ? {
              from: smallest.sessions,
              to: largest.sessions,
              ratio: largest.summary.get.p99Ms.median / smallest.summary.get.p99Ms.median,
              limit: 1.5,
              met: largest.summary.get.p99Ms.median / smallest.summary.get.p99Ms.median <= 1.5,
            }
          : undefined;
      saveResults('scale', { command, server, redis: redisGap, autovacuum, poolMax: POOL_MAX, ...cell, valueBytes: sessionJson.length, results, target });
      for (const r of results) {
        const s = r.summary;
        console.log(
          `${r.store} ${exponent(r.sessions).padEnd(6)} get p50 ${s.get.p50Ms.median.toFixed(2)} p99 ${s.get.p99Ms.median.toFixed(2)} ms ${Math.round(s.get.opsPerSecond.median)}/s | set p50 ${s.set.p50Ms.median.toFixed(2)} p99 ${s.set.p99Ms.median.toFixed(2)} ms ${Math.round(s.set.opsPerSecond.median)}/s | ${r.bytesPerSession.toFixed(0)} B/session`,
        );
      }
      if (target) console.log(`target: get p99 at ${exponent(target.to)} ÷ at ${exponent(target.from)} = ${target.ratio.toFixed(2)} (<= 1.5: ${target.met ? 'met' : 'MISSED'})`);
    }
    if (parts.includes('prune')) {
      const options = {
        live: parseCount(values['prune-live']),
        expired: parseCount(values['prune-expired']),
        inFlight: cell.inFlight,
        baselineMs: Number(values['prune-baseline-seconds']) * 1000,
        batchSize: parseCount(values['batch-size']),
        poolMax: POOL_MAX,
      };
      const results: PruneResult[] = await pruneUnderLoad(options, keep);
      saveResults('prune', { command, server, autovacuum, ...options, results });
      for (const r of results) {
        console.log(
          `${r.library}: ${r.deletedRows} rows in ${(r.purgeMs / 1000).toFixed(1)} s, ${r.statements} statements, longest ${r.longestStatementMs.toFixed(0)} ms; get p99 ${r.get.before.p99Ms.toFixed(2)} → ${r.get.during.p99Ms.toFixed(2)} ms (${(r.get.during.p99Ms / r.get.before.p99Ms).toFixed(2)}x); expired left ${r.expiredLeft}`,
        );
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    if (!keep) for (const table of pruneTables) await pool.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`).catch(() => undefined);
    await pool.end();
  }
}

// `npm run bench -- report [--from-saved] [--only scale,memory]`
//
// Writes BENCHMARKS.md and bench/charts/*.svg from the saved
// results in bench/results/*.json. By default it first RE-RUNS every
// benchmark that exists (bench/<name>.ts, each with its default arguments, in
// a child process, one after another: about 15 minutes on this machine, most
// of it loading ten million rows, 12 more for `instructions` under
// valgrind and 8 for `allocations`), so that one command produces the whole
// report; `--only a,b` re-runs just those, `--from-saved` re-runs nothing and
// only renders. A benchmark whose results file is missing gets a line naming
// the command that produces it. Nothing in BENCHMARKS.md is typed by hand.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Measurement } from './lib/measure.js';
import { isSpread, num, objectsTable, range, spreadCell, spreadOf, table, type Spread } from './lib/markdown.js';
import type { PruneResult } from './lib/prune-under-load.js';
import { pgConnection } from './lib/scale-data.js';
import { barChart, lineChart } from './lib/svg.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const benchDir = fileURLToPath(new URL('./', import.meta.url));
const resultsDir = `${benchDir}results/`;
const chartsDir = `${benchDir}charts/`;

/** The benchmarks, in report order; `files` are the results files each one writes. */
const BENCHES = [
  { name: 'postgres', files: ['postgres'], title: 'PostgreSQL stores: sessionkit vs connect-pg-simple vs raw pg' },
  { name: 'redis', files: ['redis'], title: 'Redis stores: sessionkit vs connect-redis vs raw ioredis' },
  { name: 'http', files: ['http'], title: 'HTTP: the Express counter app, bare and with each session layer' },
  { name: 'profile', files: ['profile-before', 'profile-after'], title: 'Profile of the request path (V8 CPU profiler, top self-time frames)' },
  { name: 'instructions', files: ['instructions', 'instructions-concurrent'], title: 'Machine instructions per request (valgrind callgrind)' },
  { name: 'allocations', files: ['allocations'], title: 'Bytes allocated per request (V8 sampling heap profiler)' },
  { name: 'roundtrips', files: ['roundtrips'], title: 'Round trips to the store per request' },
  { name: 'scale', files: ['scale', 'prune'], title: 'Scale: latency vs number of sessions, and pruning under load' },
  { name: 'memory', files: ['memory'], title: 'Memory backend: sessionkit vs express-session MemoryStore vs memorystore' },
  { name: 'cluster', files: ['cluster'], title: 'node:cluster: the counter app on 2 workers' },
] as const;

const PACKAGES = ['pg', 'postgres', '@electric-sql/pglite', 'ioredis', 'redis', 'express', 'express-session', 'connect-pg-simple', 'connect-redis', 'memorystore', 'fastify', '@fastify/session', 'hono', 'autocannon', 'tsx'];

interface Saved {
  measuredAt: string;
  node: string;
  data: Record<string, unknown> & { command?: string };
}

function readSaved(file: string): Saved | undefined {
  const path = `${resultsDir}${file}.json`;
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Saved) : undefined;
}

function writeChart(name: string, svgText: string): string {
  mkdirSync(chartsDir, { recursive: true });
  writeFileSync(`${chartsDir}${name}.svg`, svgText);
  return `bench/charts/${name}.svg`;
}

const image = (alt: string, path: string) => `![${alt}](${path})`;

async function serverVersions(): Promise<{ postgres: string; redis: string }> {
  let postgres = 'unreachable';
  let redis = 'unreachable';
  const client = new pg.Client(pgConnection);
  try {
    await client.connect();
    postgres = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  } catch {
    // Left as 'unreachable'.
  } finally {
    await client.end().catch(() => undefined);
  }
  const client2 = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client2.on('error', () => {});
  try {
    await client2.connect();
    redis = /redis_version:(\S+)/.exec(await client2.info('server'))?.[1] ?? 'unknown';
  } catch {
    // Left as 'unreachable'.
  } finally {
    client2.disconnect();
  }
  return { postgres, redis };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function method(): Promise<string> {
  const cpus = os.cpus();
  const nproc = (() => {
    try {
      return execFileSync('nproc', { encoding: 'utf8' }).trim();
    } catch {
      return String(os.availableParallelism());
    }
  })();
  const versions = await serverVersions();
  const ownVersion = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  const lines = [
    '## Method',
    '',
    `- Machine: ${nproc} CPUs (\`nproc\`; ${cpus[0]?.model ?? 'unknown model'}), ${num(os.totalmem() / 2 ** 30, 1)} GiB memory, ${os.type()} ${os.release()}.`,
    `- Node ${process.version}; PostgreSQL ${versions.postgres} and Redis ${versions.redis} on the same machine, reached over loopback (versions read when this file was generated).`,
    `- sessionkit ${ownVersion} compiled from this repository's sources (\`npm run build\`, what the package's \`exports\` load; the benchmark scripts themselves run through tsx, with every module of src/ loaded from dist/ by bench/lib/compiled-hooks.mjs). Other packages, as installed in node_modules: ${PACKAGES.map((p) => `${p} ${packageVersion(p)}`).join(', ')}.`,
    '- The machine is shared with other jobs (test suites running in parallel): every number is noisy. Where a benchmark runs rounds, the tables give the median and the range; read ratios, not absolute values, and treat a difference under ~20 % as noise.',
    '- Each section names the command that produced it and when. Regenerate everything with `npm run bench -- report` (re-runs every benchmark, then writes this file and the charts), or only re-render from `bench/results/*.json` with `npm run bench -- report --from-saved`.',
  ];
  return lines.join('\n');
}

const provenance = (name: string, saved: Saved) =>
  `_Produced by \`${saved.data.command ?? `npm run bench -- ${name}`}\` at ${saved.measuredAt} (Node ${saved.node})._`;

const missing = (file: string, bench: string) => `_No results yet (\`bench/results/${file}.json\` is missing): run \`npm run bench -- ${bench}\`._`;

const isMeasurement = (x: unknown): x is Measurement =>
  typeof x === 'object' && x !== null && typeof (x as Measurement).library === 'string' && typeof (x as Measurement).opsPerSecond === 'number';

/** One subject and load mode of the HTTP benchmark, with each round's measurement. */
interface HttpCell {
  framework: string;
  library: string;
  operation: string;
  rounds: Measurement[];
}

const isHttpCell = (x: unknown): x is HttpCell => typeof x === 'object' && x !== null && Array.isArray((x as HttpCell).rounds) && (x as HttpCell).rounds.length > 0 && (x as HttpCell).rounds.every(isMeasurement);

/** The HTTP benchmark's throughput: req/s of the median round with the range over rounds, and that round's latencies. */
function httpThroughput(name: string, data: Record<string, unknown>, cells: HttpCell[]): string[] {
  const options = data.options as { seconds?: number; warmup?: number; rounds?: number; connections?: number; poolMax?: number } | undefined;
  const medianRound = (cell: HttpCell) => [...cell.rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[Math.floor(cell.rounds.length / 2)] as Measurement;
  const rows = cells.map((cell) => {
    const mid = medianRound(cell);
    const all = cell.rounds.map((r) => r.opsPerSecond);
    return [cell.framework, cell.library, cell.operation, `${num(mid.opsPerSecond)} (${range(Math.min(...all), Math.max(...all))})`, num(mid.p50Ms, 2), num(mid.p99Ms, 2), String(cell.rounds.reduce((sum, r) => sum + r.errors, 0))];
  });
  const operations = [...new Set(cells.map((c) => c.operation))];
  const subjects = [...new Set(cells.map((c) => `${c.framework}: ${c.library}`))];
  const path = writeChart(`${name}-throughput`, barChart({
    title: `${name}: requests/s of the counter app`,
    yLabel: 'requests per second',
    groups: operations,
    series: subjects.map((subject) => ({ name: subject, values: operations.map((op) => { const cell = cells.find((c) => `${c.framework}: ${c.library}` === subject && c.operation === op); return cell === undefined ? NaN : medianRound(cell).opsPerSecond; }) })),
  }));
  return [
    options === undefined ? '' : `${options.connections} connections, ${options.seconds} s per round after ${options.warmup} s of warm-up, median of ${options.rounds} rounds (range in brackets); pg Pool max ${options.poolMax} per server.`,
    '',
    table(['framework', 'library', 'load', 'req/s', 'p50 ms', 'p99 ms', 'errors'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r']),
    '',
    image(`${name} requests/s`, path),
    '',
  ];
}

/** postgres, redis, http and any other bench written with bench/lib/report.ts: its own table, its targets, a chart of ops/s. */
function renderGeneric(name: string, saved: Saved): string {
  const { data } = saved;
  const parts = [provenance(name, saved), ''];
  if (typeof data.server === 'string') parts.push(`Server: ${data.server}.`, '');
  const tables = typeof data.table === 'string' ? [data.table] : Array.isArray(data.tables) ? (data.tables as unknown[]).filter((t): t is string => typeof t === 'string') : [];
  const results = Array.isArray(data.results) ? (data.results as unknown[]).filter(isMeasurement) : [];
  if (tables.length > 0) parts.push(...tables.map((t) => t.replace(/^### /gm, '#### ')), '');
  else if (results.length > 0) {
    parts.push(table(['operation', 'in flight', 'library', 'ops/s', 'p50 ms', 'p99 ms', 'errors'], results.map((r) => [r.operation, String(r.inFlight), r.library, num(r.opsPerSecond), num(r.p50Ms, 2), num(r.p99Ms, 2), String(r.errors)]), ['l', 'r', 'l', 'r', 'r', 'r', 'r']), '');
  }
  const httpCells = Array.isArray(data.throughput) ? (data.throughput as unknown[]).filter(isHttpCell) : [];
  if (httpCells.length > 0) parts.push(...httpThroughput(name, data, httpCells));
  if (Array.isArray(data.targets) && data.targets.length > 0) {
    // A target whose ratio is a spread over rounds is judged by its median.
    const targets = (data.targets as Record<string, unknown>[]).map((t) => (isSpread(t.ratio) && typeof t.target === 'number' && !('met' in t) ? { ...t, met: t.ratio.median >= t.target } : t));
    parts.push('Targets:', '', objectsTable(targets), '');
  }
  parts.push(...lostUpdatesSection(data.lostUpdates as LostUpdates | undefined));
  const inFlights = [...new Set(results.map((r) => r.inFlight))].sort((a, b) => a - b);
  for (const inFlight of inFlights) {
    const cells = results.filter((r) => r.inFlight === inFlight);
    const operations = [...new Set(cells.map((r) => r.operation))];
    const libraries = [...new Set(cells.map((r) => r.library))];
    const path = writeChart(`${name}-ops-${inFlight}`, barChart({
      title: `${name}: ops/s per library, ${inFlight} in flight`,
      yLabel: 'operations per second',
      groups: operations,
      series: libraries.map((library) => ({ name: library, values: operations.map((op) => cells.find((c) => c.library === library && c.operation === op)?.opsPerSecond ?? NaN) })),
    }));
    parts.push(image(`${name} ops/s at ${inFlight} in flight`, path), '');
  }
  if (tables.length === 0 && results.length === 0 && httpCells.length === 0) parts.push('```json', JSON.stringify(data, null, 2).slice(0, 4000), '```', '');
  return parts.join('\n');
}

interface SizeResult {
  store: string;
  sessions: number;
  loadSeconds: number;
  bytesPerSession: number;
  sizeDetail: Record<string, number>;
  plans: { mode: string; batchSize: number; access: string; lines: string[] }[];
  errorCodes?: Record<string, number>;
  cells: Measurement[];
  summary: Record<'get' | 'set', { opsPerSecond: Spread; p50Ms: Spread; p99Ms: Spread }>;
}

function summarizeCells(cells: Measurement[]): SizeResult['summary'] {
  const of = (operation: 'get' | 'set') => {
    const mine = cells.filter((c) => c.operation === operation);
    return { opsPerSecond: spreadOf(mine.map((c) => c.opsPerSecond)), p50Ms: spreadOf(mine.map((c) => c.p50Ms)), p99Ms: spreadOf(mine.map((c) => c.p99Ms)) };
  };
  return { get: of('get'), set: of('set') };
}

const power = (n: number) => (Number.isInteger(Math.log10(n)) ? `10^${Math.log10(n)}` : num(n));

function renderScale(saved: Saved): string {
  const data = saved.data as Saved['data'] & { results: SizeResult[]; server: string; redis?: string; autovacuum: string; inFlight: number; rounds: number; durationMs: number; poolMax: number; valueBytes: number; target?: { from: number; to: number; ratio: number; limit: number; met: boolean } };
  const parts = [
    provenance('scale', saved),
    '',
    `${data.server}${data.redis ? ` and ${data.redis}` : ''}; ${data.inFlight} operations in flight, pg Pool max ${data.poolMax}; ${data.rounds} rounds of ${data.durationMs / 1000} s per cell after 1 s of warm-up; sessions picked at random over the whole table; ${data.valueBytes}-byte values. Tables are loaded server-side (INSERT … SELECT … generate_series, indexes built after the load, then VACUUM ANALYZE). autovacuum on this server: ${data.autovacuum}. Cells: median (min–max over rounds).`,
    '',
  ];
  // Spreads are recomputed from the cells (a true median, also for results saved before that fix).
  for (const r of data.results) if (Array.isArray(r.cells) && r.cells.length > 0) r.summary = summarizeCells(r.cells);
  const rows = data.results.map((r) => [
    r.store,
    power(r.sessions),
    spreadCell(r.summary.get.p50Ms, 2),
    spreadCell(r.summary.get.p99Ms, 2),
    spreadCell(r.summary.get.opsPerSecond, 0),
    spreadCell(r.summary.set.p50Ms, 2),
    spreadCell(r.summary.set.p99Ms, 2),
    spreadCell(r.summary.set.opsPerSecond, 0),
    num(r.bytesPerSession, 0),
    r.plans.map((p) => `${p.mode}: ${p.access}`).join('; ') || '–',
    Object.entries(r.errorCodes ?? {}).map(([code, n]) => `${n}× ${code}`).join(', ') || String(r.cells.reduce((sum, c) => sum + c.errors, 0)),
  ]);
  parts.push(table(['store', 'sessions', 'get p50 ms', 'get p99 ms', 'get ops/s', 'set p50 ms', 'set p99 ms', 'set ops/s', 'bytes/session', 'get plan (32 keys)', 'errors'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l']), '');
  parts.push('Bytes per session: PostgreSQL `pg_total_relation_size` (heap + indexes + TOAST) ÷ rows; Redis growth of `used_memory` ÷ keys. Errors are failed operations by BackendError code and SQLSTATE (40P01 = deadlock detected).', '');
  const pgRows = data.results.filter((r) => r.store === 'postgres');
  if (data.target && pgRows.length > 1) {
    const ratio = pgRows[pgRows.length - 1]!.summary.get.p99Ms.median / pgRows[0]!.summary.get.p99Ms.median;
    data.target = { ...data.target, ratio, met: ratio <= data.target.limit };
  }
  if (data.target) {
    parts.push(`**Target** (get p99 at ${power(data.target.to)} within ${data.target.limit}x of p99 at ${power(data.target.from)}): measured ${num(data.target.ratio, 2)}x (medians) — ${data.target.met ? 'met' : 'MISSED'}.`, '');
  }
  const withPlans = data.results.filter((r) => r.plans.length > 0);
  if (withPlans.length > 0) {
    parts.push('<details><summary>Plans of the get statement (EXPLAIN, generic and custom plan, batch of 32 keys)</summary>', '');
    for (const r of withPlans) for (const plan of r.plans) parts.push(`${power(r.sessions)} sessions, ${plan.mode} plan:`, '', '```', ...plan.lines, '```', '');
    parts.push('</details>', '');
  }
  const stores = [...new Set(data.results.map((r) => r.store))];
  const series = stores.flatMap((store) => {
    const mine = data.results.filter((r) => r.store === store);
    return (['get', 'set'] as const).flatMap((op) => [
      { name: `${store} ${op} p99`, points: mine.map((r) => [r.sessions, r.summary[op].p99Ms.median] as [number, number]) },
      { name: `${store} ${op} p50`, points: mine.map((r) => [r.sessions, r.summary[op].p50Ms.median] as [number, number]), dashed: true },
    ]);
  });
  if (series.length > 0) {
    parts.push(image('latency vs table size', writeChart('scale-latency', lineChart({ title: 'Latency vs number of live sessions (64 in flight)', xLabel: 'live sessions', yLabel: 'ms', series }))), '');
    const opsSeries = stores.flatMap((store) => (['get', 'set'] as const).map((op) => ({ name: `${store} ${op}`, points: data.results.filter((r) => r.store === store).map((r) => [r.sessions, r.summary[op].opsPerSecond.median] as [number, number]) })));
    parts.push(image('throughput vs table size', writeChart('scale-throughput', lineChart({ title: 'Throughput vs number of live sessions (64 in flight)', xLabel: 'live sessions', yLabel: 'operations per second', series: opsSeries }))), '');
  }
  return parts.join('\n');
}


function renderPrune(saved: Saved): string {
  const data = saved.data as Saved['data'] & { results: PruneResult[]; live: number; expired: number; inFlight: number; baselineMs: number; batchSize: number; autovacuum: string };
  const parts = [
    provenance('scale', saved),
    '',
    `Each library on its own table of ${num(data.live)} live and ${num(data.expired)} expired sessions, with a steady load of ${data.inFlight} operations in flight (3 gets : 1 set, on live sessions picked at random, through the library itself). After 1 s of warm-up and ${data.baselineMs / 1000} s of baseline, the library's purge runs once beside the load. "before" = the baseline window, "during" = while the purge ran. A purge statement's duration (measured by the client) bounds how long it held its row locks; the pg_stat_activity / pg_locks columns are samples every 20 ms.`,
    '',
  ];
  const rows = data.results.map((r) => [
    r.library,
    r.method,
    num(r.purgeMs / 1000, 1),
    num(r.statements),
    `${num(r.statementP50Ms, 1)} / ${num(r.statementP99Ms, 1)}`,
    num(r.longestStatementMs, 0),
    num(r.statementsOver100Ms),
    num(r.longestActiveDeleteSampledMs, 0),
    num(r.maxLockWaiters),
    `${num(r.get.before.p99Ms, 2)} → ${num(r.get.during.p99Ms, 2)} (${num(r.get.during.p99Ms / r.get.before.p99Ms, 2)}x)`,
    `${num(r.get.before.opsPerSecond)} → ${num(r.get.during.opsPerSecond)}`,
    `${num(r.set.before.p99Ms, 2)} → ${num(r.set.during.p99Ms, 2)}`,
    num(r.errors),
    num(r.expiredLeft),
  ]);
  parts.push(table(['library', 'purge', 'purge s', 'statements', 'statement ms p50 / p99', 'longest statement ms', 'statements ≥ 100 ms', 'longest DELETE seen ms', 'max lock waiters seen', 'get p99 ms before → during', 'get ops/s before → during', 'set p99 ms before → during', 'load errors', 'expired rows left'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'l', 'r', 'r']), '');
  const sk = data.results.find((r) => r.library === 'sessionkit');
  if (sk) {
    const ratio = sk.get.during.p99Ms / sk.get.before.p99Ms;
    parts.push(
      `**Targets** (sessionkit): get p99 during the purge within 2x of before — ${num(ratio, 2)}x, ${ratio <= 2 ? 'met' : 'MISSED'}; no statement over 100 ms — longest ${num(sk.longestStatementMs, 0)} ms, ${sk.longestStatementMs < 100 ? 'met' : 'MISSED'}; every expired row gone — ${num(sk.expiredLeft)} left, ${sk.expiredLeft === 0 ? 'met' : 'MISSED'}.`,
      '',
    );
    for (const plan of sk.plansAfterPurge ?? []) parts.push(`Plan of sessionkit's get after deleting ${num(sk.deletedRows)} rows (no VACUUM since; autovacuum: ${data.autovacuum}), ${plan.mode}: \`${plan.lines[0] ?? ''}\``, '');
  }
  return parts.join('\n');
}

interface MemoryData {
  command: string;
  durationMs: number;
  rounds: number;
  preload: number;
  valueBytes: number;
  ops?: { cells: { library: string; operation: string; inFlight: number; opsPerSecond: number[]; median: number }[]; targets: { operation: string; inFlight: number; ratio: number; rawRatio: number; limit: number; met: boolean }[] };
  bytes?: { sessions: number; results: { library: string; bytesPerSession: number; heapBefore: number; heapAfter: number }[] };
  churn?: { total: number; maxSessions: number; results: { library: string; maxSessions: number | null; heap: { created: number; heapUsed: number }[] }[] };
}

function renderMemory(saved: Saved): string {
  const data = saved.data as unknown as MemoryData;
  const parts = [provenance('memory', saved), ''];
  if (data.ops) {
    parts.push(`ops/s on ${num(data.preload)} sessions, ${data.rounds} rounds of ${data.durationMs / 1000} s, stores interleaved; every store returns the session object (sessionkit's row includes the app's JSON.parse / JSON.stringify; the "string in/out" row is the backend alone). Cells: median (min–max).`, '');
    parts.push(table(['operation', 'in flight', 'store', 'ops/s'], data.ops.cells.map((c) => [c.operation, String(c.inFlight), c.library, `${num(c.median)} (${range(Math.min(...c.opsPerSecond), Math.max(...c.opsPerSecond))})`]), ['l', 'r', 'l', 'r']), '');
    parts.push(table(['target', 'in flight', 'sessionkit ÷ faster other', 'string in/out ÷ faster other', 'met (>= 2x)'], data.ops.targets.map((t) => [t.operation, String(t.inFlight), `${num(t.ratio, 2)}x`, `${num(t.rawRatio, 2)}x`, t.met ? 'yes' : 'NO']), ['l', 'r', 'r', 'r', 'l']), '');
    for (const inFlight of [...new Set(data.ops.cells.map((c) => c.inFlight))]) {
      const cells = data.ops.cells.filter((c) => c.inFlight === inFlight);
      const libraries = [...new Set(cells.map((c) => c.library))];
      const path = writeChart(`memory-ops-${inFlight}`, barChart({
        title: `memory stores: ops/s, ${inFlight} in flight`,
        yLabel: 'operations per second',
        groups: ['get', 'set'],
        series: libraries.map((library) => ({ name: library, values: ['get', 'set'].map((op) => cells.find((c) => c.library === library && c.operation === op)?.median ?? NaN) })),
      }));
      parts.push(image(`memory stores ops/s at ${inFlight} in flight`, path), '');
    }
  }
  if (data.bytes) {
    parts.push(`Bytes per session: heap growth after a forced GC over ${num(data.bytes.sessions)} sessions with ${data.valueBytes}-byte JSON values (each store alone in a process started with --expose-gc; keys included).`, '');
    parts.push(table(['store', 'bytes/session', 'heap before MiB', 'heap after MiB'], data.bytes.results.map((r) => [r.library, num(r.bytesPerSession), num(r.heapBefore / 2 ** 20, 1), num(r.heapAfter / 2 ** 20, 1)]), ['l', 'r', 'r', 'r']), '');
  }
  if (data.churn) {
    const checkpoints = data.churn.results[0]?.heap.map((h) => h.created) ?? [];
    parts.push(`Churn: ${num(data.churn.total)} sessions created one after another; sessionkit and memorystore capped at ${num(data.churn.maxSessions)} sessions (express-session's MemoryStore has no cap). Heap (MiB, after a forced GC) by sessions created:`, '');
    parts.push(table(['store', ...checkpoints.map((c) => num(c))], data.churn.results.map((r) => [`${r.library}${r.maxSessions ? ` (max ${num(r.maxSessions)})` : ''}`, ...r.heap.map((h) => num(h.heapUsed / 2 ** 20, 0))]), ['l', ...checkpoints.map(() => 'r' as const)]), '');
    const sk = data.churn.results.find((r) => r.library.startsWith('sessionkit'));
    if (sk) {
      const atCap = sk.heap.find((h) => h.created >= data.churn!.maxSessions) ?? sk.heap[1]!;
      const end = sk.heap[sk.heap.length - 1]!;
      parts.push(`sessionkit heap once full (${num(atCap.created)} created): ${num(atCap.heapUsed / 2 ** 20, 0)} MiB; after ${num(end.created)}: ${num(end.heapUsed / 2 ** 20, 0)} MiB (${num(end.heapUsed / atCap.heapUsed, 2)}x).`, '');
    }
    const path = writeChart('memory-churn', lineChart({
      title: 'Heap under churn (after GC)',
      xLabel: 'sessions created',
      yLabel: 'heap MiB',
      series: data.churn.results.map((r) => ({ name: r.library, points: r.heap.filter((h) => h.created > 0).map((h) => [h.created, h.heapUsed / 2 ** 20] as [number, number]) })),
    }));
    parts.push(image('heap under churn', path), '');
  }
  return parts.join('\n');
}

interface ClusterLoad {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  counted: number;
  lost: number;
}

function renderCluster(saved: Saved): string {
  const data = saved.data as Saved['data'] & {
    connections: number;
    requests: number;
    sessions: number;
    hotConnections: number;
    hotRequests: number;
    results: { backend: string; workers: number; crossWorker: { requests: number; workersSeen: number; countsInOrder: boolean }; spread: ClusterLoad; hot: ClusterLoad }[];
    speedups: { backend: string; ratio?: number }[];
  };
  const parts = [
    provenance('cluster', saved),
    '',
    `The counter app (sessionkit/node \`withSession\`, \`session.update(fn)\`: a compare-and-set loop) under node:cluster; autocannon runs in the primary process on the same 2 cores. "spread": ${num(data.requests)} POSTs over ${num(data.sessions)} sessions from ${data.connections} connections; "hot": ${num(data.hotRequests)} POSTs on ONE session from ${data.hotConnections} connections. "lost" = 2xx answers − increments found in the sessions afterwards (must be 0).`,
    '',
  ];
  const rows = data.results.flatMap((r) =>
    (['spread', 'hot'] as const).map((kind) => {
      const l = r[kind];
      return [r.backend, String(r.workers), kind, num(l.requestsPerSecond), num(l.p50Ms, 1), num(l.p99Ms, 1), num(l.ok2xx), num(l.non2xx), num(l.errors), num(l.counted), num(l.lost), kind === 'spread' ? `${r.crossWorker.workersSeen} workers, ${r.crossWorker.countsInOrder ? 'counts 1..20 in order' : 'COUNTS OUT OF ORDER'}` : ''];
    }),
  );
  parts.push(table(['backend', 'workers', 'load', 'req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'increments found', 'lost', 'cross-worker check'], rows, ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']), '');
  parts.push(data.speedups.map((s) => `${s.backend}: 2 workers ÷ 1 worker = ${num(s.ratio, 2)}x (spread load).`).join(' '), '');
  const backends = [...new Set(data.results.map((r) => r.backend))];
  const workerCounts = [...new Set(data.results.map((r) => r.workers))];
  const path = writeChart('cluster-throughput', barChart({
    title: 'Counter app under node:cluster: requests/s',
    yLabel: 'requests per second',
    groups: backends,
    series: workerCounts.map((w) => ({ name: `${w} worker${w > 1 ? 's' : ''}`, values: backends.map((b) => data.results.find((r) => r.backend === b && r.workers === w)?.spread.requestsPerSecond ?? NaN) })),
  }));
  parts.push(image('cluster throughput', path), '');
  return parts.join('\n');
}

interface HttpRatios {
  id: string;
  library: string;
  operation: string;
  reqPerSecond: Spread;
  vsBare?: Spread;
  anchor?: string;
  vsAnchor?: Spread;
  cpuMicrosPerRequest: number;
  sessionCpuMicros?: number;
  storeCpuMicrosPerRequest?: number;
  sessionMicrosByRate?: number;
}

/** A text bar for a ratio (1.00 = 40 characters), so the Markdown shows the shape without the SVG. */
const textBar = (ratio: number | undefined) => (ratio === undefined || !Number.isFinite(ratio) ? '' : `\`${'█'.repeat(Math.max(0, Math.round(ratio * 40)))}\``);

function renderHttp(saved: Saved): string {
  const data = saved.data as Saved['data'] & {
    options?: { seconds: number; warmup: number; rounds: number; connections: number; poolMax: number; modes?: string[] };
    loadAverageBefore?: number[];
    loadAverageAfter?: number[];
    ratios?: HttpRatios[];
    goals?: { name: string; measured: number; goal: string; met: boolean; floor?: string; floorMeasured?: number; floorMeets?: boolean }[];
    lostUpdates?: { increments: number; results: { id: string; counts: number[] }[] };
  };
  if (data.ratios === undefined) return renderGeneric('http', saved);
  const o = data.options;
  const parts = [
    provenance('http', saved),
    '',
    o === undefined
      ? ''
      : `The counter app (read the counter from the session, add one, answer it) on Express 5; autocannon, ${o.connections} connections, each keeping the cookie it was last given; ${o.rounds} round(s) of ${o.seconds} s per app after ${o.warmup} s of warm-up, apps interleaved (order reversed every other round); each server in a child process of its own, pg Pool max ${o.poolMax}. Ratios are taken within a round and the median over rounds is shown (range in brackets): on this shared machine they are what is comparable, not req/s. Load average (1, 5, 15 min) before the run: ${(data.loadAverageBefore ?? []).join(', ')}; after: ${(data.loadAverageAfter ?? []).join(', ')}.`,
    '',
    '"CPU µs/req" is the server process\'s own CPU time (user + system, `process.cpuUsage()` around the measured window) divided by the requests it answered; "session µs/req" is that minus bare Express\'s in the same round, the session layer\'s work per request. "store server µs/req" is the CPU time of the PostgreSQL or Redis server processes on the same machine over the same window (from /proc, with the connections that ended), divided by the same requests: on this 2-core machine the app, the store server and the load generator share the cores. "1/rate − 1/bare" is the issue\'s way of reading the same: the time a request adds when the Node process is the bottleneck.',
    '',
  ];
  const cell = (s: Spread | undefined) => (s === undefined ? '' : s.min === s.max ? num(s.median, 2) : `${num(s.median, 2)} (${range(s.min, s.max, 2)})`);
  parts.push(
    table(
      ['app', 'load', 'req/s', 'vs bare Express', 'vs its anchor', 'anchor', 'CPU µs/req', 'session µs/req', 'store server µs/req', '1/rate − 1/bare µs'],
      data.ratios.map((r) => [r.library, r.operation, `${num(r.reqPerSecond.median)} (${range(r.reqPerSecond.min, r.reqPerSecond.max)})`, cell(r.vsBare), r.vsAnchor === undefined ? '' : `${cell(r.vsAnchor)}x`, r.anchor ?? '—', num(r.cpuMicrosPerRequest, 1), num(r.sessionCpuMicros, 1), num(r.storeCpuMicrosPerRequest, 1), num(r.sessionMicrosByRate, 1)]),
      ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
    ),
    '',
    'Throughput relative to bare Express (each █ = 0.025):',
    '',
    table(['app', 'vs bare Express'], data.ratios.map((r) => [r.library, `${textBar(r.vsBare?.median ?? (r.id.endsWith('-none') ? 1 : undefined))} ${num(r.vsBare?.median ?? (r.id.endsWith('-none') ? 1 : undefined), 2)}`]), ['l', 'l']),
    '',
  );
  const path = writeChart('http-ratios', barChart({
    title: 'Express counter app: requests/s relative to bare Express (same round)',
    yLabel: 'ratio to bare Express',
    groups: ['vs bare Express', 'CPU µs/req ÷ bare'],
    series: data.ratios.map((r) => {
      const bare = data.ratios!.find((b) => b.id.endsWith('-none') && b.operation === r.operation);
      return { name: r.library, values: [r.vsBare?.median ?? (r === bare ? 1 : NaN), bare === undefined ? NaN : r.cpuMicrosPerRequest / bare.cpuMicrosPerRequest] };
    }),
  }));
  parts.push(image('Express counter app, ratios to bare Express', path), '');
  if (data.goals !== undefined && data.goals.length > 0) {
    const yesNo = (value: boolean | undefined) => (value === undefined ? '–' : value ? 'yes' : 'NO');
    parts.push(
      'Goals (typed session, cookie reused). "The same for its floor" takes the goal\'s measure for the app the session layer cannot beat, in the same run: the cookie floor, or its store\'s floor (one read and one write by key through the driver, no session logic), or for SessionkitStore express-session + MemoryStore (express-session\'s own work, with a store that makes no round trip). Where the floor misses a goal, no session layer on that store meets it on this machine (for SessionkitStore: no store slower than an in-process Map).',
      '',
      table(['goal', 'measured', 'wanted', 'met', 'the same for its floor', 'the floor meets it'], data.goals.map((g) => [g.name, num(g.measured, 2), g.goal, g.met ? 'yes' : 'NO', g.floor === undefined ? '–' : `${num(g.floorMeasured, 2)} (${g.floor})`, yesNo(g.floorMeets)]), ['l', 'r', 'r', 'l', 'r', 'l']),
      '',
    );
  }
  parts.push(...lostUpdatesSection(data.lostUpdates));
  return parts.join('\n');
}

interface ProfileData {
  command: string;
  seconds: number;
  summaries: {
    id: string;
    library: string;
    operation: string;
    reqPerSecond: number;
    cpuMicrosPerRequest: number;
    loadAverage: number[];
    top: { frame: string; area: string; share: number; microsPerRequest: number }[];
    areas: { area: string; share: number; microsPerRequest: number }[];
  }[];
}

function renderProfile(file: string, saved: Saved): string {
  const data = saved.data as unknown as ProfileData;
  const label = file === 'profile-before' ? 'Before' : 'After';
  const parts = [
    `### ${label}`,
    '',
    provenance('profile', saved),
    '',
    label === 'Before'
      ? 'The code as it was before the hot-path changes listed in CHANGELOG.md (Unreleased), built and profiled the same way.'
      : 'The code as it is in this repository.',
    '',
    `Self time by area (share of the busy samples; µs/req = share × the server's CPU µs per request). ${data.seconds} s under autocannon's 50 connections after a warm-up.`,
    '',
  ];
  const areaNames = ['sessionkit', 'GC', 'node internals', 'native', 'express', 'router'];
  parts.push(
    table(
      ['app', 'load', 'req/s', 'CPU µs/req', ...areaNames.map((a) => `${a} %`), 'sessionkit µs/req', 'load average'],
      data.summaries.map((s) => {
        const of = (area: string) => s.areas.find((a) => a.area === area);
        return [s.library, s.operation, num(s.reqPerSecond), num(s.cpuMicrosPerRequest, 0), ...areaNames.map((a) => num((of(a)?.share ?? 0) * 100, 1)), num(of('sessionkit')?.microsPerRequest ?? 0, 1), s.loadAverage.join(', ')];
      }),
      ['l', 'l', 'r', 'r', ...areaNames.map(() => 'r' as const), 'r', 'l'],
    ),
    '',
  );
  for (const s of data.summaries.filter((x) => x.operation === 'cookie reused' && x.id !== 'express-none')) {
    parts.push(`<details><summary>${label}: ${s.library}, ${s.operation} — top self-time frames</summary>`, '');
    parts.push(table(['frame', 'area', 'share %', 'µs/req'], s.top.map((f) => [`\`${f.frame}\``, f.area, num(f.share * 100, 2), num(f.microsPerRequest, 1)]), ['l', 'l', 'r', 'r']), '');
    const own = s.top.filter((f) => f.area === 'sessionkit');
    if (own.length > 0) parts.push(`sessionkit frames among them: ${own.map((f) => `${f.frame.split(' ')[0]} ${num(f.share * 100, 1)} %`).join(', ')}.`, '');
    parts.push('</details>', '');
  }
  return parts.join('\n');
}

interface RoundTripsData {
  requests: number;
  connections: number;
  rows: { id: string; library: string; store: string; load: string; requests: number; perRequest: number; byKind: Record<string, number> }[];
}

function renderRoundTrips(saved: Saved): string {
  const data = saved.data as unknown as RoundTripsData;
  return [
    provenance('roundtrips', saved),
    '',
    'Round trips per request of the counter app: PostgreSQL statements counted at the driver (each pg `query` is one round trip); Redis commands clients sent to a private redis-server, from MONITOR (commands a Lua script runs inside the server are not round trips and are left out). The memory backend makes none. See docs/architecture.md, "Round trips".',
    '',
    table(
      ['store', 'app', 'load', 'round trips per request', 'what was sent'],
      data.rows.map((r) => [r.store, r.library, r.load, num(r.perRequest, 2), Object.entries(r.byKind).map(([k, n]) => `${k} × ${num(n)}`).join(', ') + ` over ${num(r.requests)} requests`]),
      ['l', 'l', 'l', 'r', 'l'],
    ),
    '',
  ].join('\n');
}

const RENDERERS: Record<string, (saved: Saved) => string> = {
  scale: renderScale,
  prune: renderPrune,
  memory: renderMemory,
  cluster: renderCluster,
  http: renderHttp,
  'profile-before': (saved) => renderProfile('profile-before', saved),
  'profile-after': (saved) => renderProfile('profile-after', saved),
  roundtrips: renderRoundTrips,
};

/** `npm run bench -- report`: see the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'from-saved': { type: 'boolean', default: false }, only: { type: 'string' } } });
  const available = BENCHES.filter((b) => existsSync(`${benchDir}${b.name}.ts`)).map((b) => b.name as string);
  const toRun = values['from-saved'] ? [] : values.only ? values.only.split(',') : available;
  const failed: string[] = [];
  for (const name of toRun) {
    if (!available.includes(name)) throw new TypeError(`no benchmark bench/${name}.ts`);
    console.error(`report: running npm run bench -- ${name}`);
    const child = spawnSync(process.execPath, [...process.execArgv, `${benchDir}run.ts`, name], { cwd: root, stdio: 'inherit' });
    if (child.status !== 0) failed.push(name);
  }

  const sections = [
    '<!-- GENERATED by `npm run bench -- report` from bench/results/*.json (bench/report.ts). Do not edit by hand: rerun the command. -->',
    '',
    '# Benchmarks',
    '',
    'How sessionkit compares with the stores users would pick instead, how it behaves as the store grows, while expired sessions are purged, in memory, and across processes. `npm run bench -- report` re-runs every benchmark and regenerates this file and the charts in `bench/charts/`; `npm run bench -- report --from-saved` only re-renders from the saved results.',
    '',
    await method(),
    '',
  ];
  if (failed.length > 0) sections.push(`> The last report run failed for: ${failed.map((f) => `\`npm run bench -- ${f}\``).join(', ')}; its section shows the previous saved results, if any.`, '');
  for (const bench of BENCHES) {
    sections.push(`## ${bench.title}`, '');
    for (const file of bench.files) {
      const saved = readSaved(file);
      if (saved === undefined) {
        sections.push(existsSync(`${benchDir}${bench.name}.ts`) ? missing(file, bench.name) : `_Not measured: \`bench/${bench.name}.ts\` does not exist yet; \`npm run bench -- ${bench.name}\` will produce \`bench/results/${file}.json\` once it does._`, '');
        continue;
      }
      if (bench.name === 'scale') sections.push(`### ${file === 'prune' ? 'Pruning under load' : 'Latency and size vs number of sessions'}`, '');
      sections.push((RENDERERS[file] ?? ((s: Saved) => renderGeneric(file, s)))(saved), '');
    }
  }
  writeFileSync(`${root}BENCHMARKS.md`, `${sections.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`);
  console.error(`report: wrote BENCHMARKS.md and bench/charts/*.svg`);
}

interface LostUpdates {
  increments: number;
  results: { id: string; counts: number[] }[];
}

/** The lost-update check's table: the final count of each run of concurrent increments on one cookie. */
function lostUpdatesSection(lost: LostUpdates | undefined): string[] {
  if (lost === undefined) return [];
  return [
    `Lost updates: ${lost.increments} concurrent increments with one cookie, final count per run (bench/http.ts subject ids):`,
    '',
    table(['subject', 'final counts', 'lost (worst run)'], lost.results.map((r) => [r.id, r.counts.join(', '), String(lost.increments - Math.min(...r.counts))]), ['l', 'l', 'r']),
    '',
  ];
}

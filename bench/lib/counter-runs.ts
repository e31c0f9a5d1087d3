// The counter app of bench/http.ts run in a child process of its own (bench/lib/counter-child.ts) with its
// client in the same process, and what bench/instructions.ts and bench/allocations.ts share around it: the
// child's protocol, and each session layer's ratio to its anchor's and its floor's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configOf, floorOf, subjectById, type Subject } from '../http.js';

/** What the child is to do (JSON in BENCH_COUNTER_JOB). */
export interface ChildJob {
  subject: string;
  table: string;
  prefix: string;
  warmupRequests: number;
  measuredRequests: number;
  /** Keep-alive sockets, each a client with its own session; both request counts are multiples of it. */
  connections: number;
  /** When set, the child samples what the measured requests allocate with V8's sampling heap profiler, one sample per this many bytes on average. */
  samplingIntervalBytes?: number;
}
/** What the child answers with `done`. */
export interface ChildDone {
  /** Each client's counter at the end: its share of warm-up + measured requests when it kept its cookie. */
  finalCounts: number[];
  /** Bytes the measured requests allocated (sampled), when the job asked for it. */
  allocatedBytes?: number;
}
/** Marks the child's protocol lines on stdout, where a library may print too. */
export const LINE_PREFIX = 'counter-child:';

export const BARE = 'express-none';
export const COOKIE_FLOOR = 'express-cookie-floor';
/** The apps both benchmarks run by default: bare Express, the floors, and each session layer on memory, Redis and PostgreSQL with its anchor. */
export const DEFAULT_SUBJECTS = [BARE, COOKIE_FLOOR, 'express-redis-floor', 'express-pg-floor', 'express-session-memory', 'express-sessionkit-memory', 'express-sessionkit-memory-view', 'express-session-redis', 'express-sessionkit-redis', 'express-session-sessionkitstore-redis', 'express-session-pg', 'express-sessionkit-pg'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const childScript = fileURLToPath(new URL('./counter-child.ts', import.meta.url));

/** How to start the child (`launcher` goes before node, e.g. valgrind and its flags) and what to do around its measured window. */
export interface ChildRun {
  warmupRequests: number;
  measuredRequests: number;
  connections: number;
  samplingIntervalBytes?: number;
  launcher?: string[];
  /** Before the measured requests start, and after they ended (given the child's process id). */
  beforeMeasured?: (pid: number) => Promise<void>;
  afterMeasured?: (pid: number) => Promise<void>;
}

/**
 * Runs `subject`'s counter app in a child: warm-up requests, then the measured ones between
 * `beforeMeasured` and `afterMeasured`. Rejects when a client's counter did not end at its share of
 * the requests (the cookie was not kept), except for bare Express, which has no counter to keep.
 */
export async function runCounterChild(subject: Subject, run: ChildRun): Promise<{ done: ChildDone; wallSeconds: number }> {
  const { table, prefix } = configOf(subject);
  const { warmupRequests, measuredRequests, connections, samplingIntervalBytes } = run;
  const job: ChildJob = { subject: subject.id, table, prefix, warmupRequests, measuredRequests, connections, samplingIntervalBytes };
  // The same node flags as `npm run bench` (tsx, and src/ loaded from dist/).
  const [command, ...launcherArgs] = [...(run.launcher ?? []), process.execPath];
  const child = spawn(command!, [...launcherArgs, ...process.execArgv, childScript], {
    cwd: root,
    env: { ...process.env, BENCH_COUNTER_JOB: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (word: string) => {
    for (let r = await lines.next(); !r.done; r = await lines.next()) if (r.value.startsWith(LINE_PREFIX + word)) return r.value.slice(LINE_PREFIX.length + word.length).trim();
    throw new Error(`${subject.id}: the child ended before '${word}' (exit ${await exited}):\n${stderr}`);
  };
  const started = Date.now();
  try {
    await next('warm');
    await run.beforeMeasured?.(child.pid!);
    child.stdin.write('go\n');
    const done = JSON.parse(await next('done')) as ChildDone;
    await run.afterMeasured?.(child.pid!);
    child.stdin.write('exit\n');
    if ((await exited) !== 0) throw new Error(`${subject.id}: the child exited with ${child.exitCode}:\n${stderr}`);
    // Every request of a client went through its one session: each counter ends at the client's share of warm-up + measured.
    const perClient = (warmupRequests + measuredRequests) / connections;
    const lost = done.finalCounts.find((count) => count !== perClient);
    if (subject.id !== BARE && lost !== undefined) throw new Error(`${subject.id}: a client's counter ended at ${lost}, not ${perClient}: the cookie was not kept`);
    return { done, wallSeconds: (Date.now() - started) / 1000 };
  } finally {
    child.kill();
  }
}

/** The apps `--subjects` names (DEFAULT_SUBJECTS without it), with bare Express first when it is not among them: every session layer is measured against it. */
export function subjectsToRun(list: string | undefined): Subject[] {
  const subjects = (list?.split(',') ?? DEFAULT_SUBJECTS).map(subjectById);
  if (!subjects.some((s) => s.id === BARE)) subjects.unshift(subjectById(BARE));
  return subjects;
}

/** How the clients drive the app, for a table's title. */
export const loadShape = (connections: number) => (connections === 1 ? 'one keep-alive socket' : `${connections} keep-alive sockets, one request in flight on each`);

/** Checks the request counts against the clients: each client makes the same number of requests. */
export function checkConnections(connections: number, warmupRequests: number, measuredRequests: number): void {
  if (!Number.isInteger(connections) || connections < 1 || warmupRequests % connections !== 0 || measuredRequests % connections !== 0) {
    throw new TypeError(`--connections must be a whole number ≥ 1 that divides --warmup-requests and --requests (got ${connections})`);
  }
}

/** A session layer's comparison: its cheapest anchor that ran, and its cost ÷ that anchor's and ÷ its floor's. */
export interface LayerRatios {
  anchor: string | undefined;
  vsAnchor: number | undefined;
  vsFloor: number | undefined;
}

/**
 * Each subject's session layer (`layerOf`: its cost beyond bare Express) against its anchors' (SUBJECTS'
 * `anchors`, the cheapest of those that ran) and its floor's: its store's (`floorOf`) when that ran, else
 * the cookie floor's (a cookie round trip and a Map, what no cookie session can skip).
 */
export function layerRatios(ids: readonly string[], layerOf: (id: string) => number | undefined): Map<string, LayerRatios> {
  const ran = (id: string) => ids.includes(id);
  const layer = (id: string) => layerOf(id) ?? Number.NaN;
  return new Map(
    ids.map((id) => {
      const subject = subjectById(id);
      const own = layerOf(id);
      const storeFloor = floorOf(subject);
      const floor = ran(storeFloor) ? storeFloor : COOKIE_FLOOR;
      const anchor = (subject.anchors ?? []).filter(ran).sort((a, b) => layer(a) - layer(b))[0];
      return [
        id,
        {
          anchor,
          vsAnchor: own === undefined || anchor === undefined ? undefined : own / layer(anchor),
          vsFloor: own === undefined || !ran(floor) || id === floor ? undefined : own / layer(floor),
        },
      ];
    }),
  );
}

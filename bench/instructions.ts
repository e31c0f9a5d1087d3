// `npm run bench -- instructions [--subjects <id,...>] [--warmup-requests 3000] [--requests 2000]`
//
// Machine instructions per request of the Express counter app of bench/http.ts, bare and with each
// session layer, counted by valgrind's callgrind: a measure of "cost per request" that the load of this
// shared 2-core machine cannot blur (req/s in `bench -- http` moves ±15–30 % with the neighbours; an
// instruction count is the same for the same binary and input, give or take what the garbage collector
// and the JIT decide on timers).
//
// Per subject, one child process (bench/lib/instructions-child.ts) runs under
// `valgrind --tool=callgrind --instr-atstart=no`: it builds the app, listens on 127.0.0.1:0 and drives it
// itself with one keep-alive socket, GET / one after another, sending back the session cookie (as a
// browser does). The warm-up requests run uninstrumented; then this process turns instrumentation on with
// `callgrind_control -i on <pid>`, the child makes the measured requests, and `callgrind_control -i off`
// ends the window. Instrumentation is one switch for the whole process, so callgrind counts every thread
// of node (the main thread, V8's GC and compiler helpers, libuv's pool) over the window: the work a
// request causes, wherever it runs. Instructions per request = callgrind's total ÷ measured requests.
// The main thread's share is shown apart (--separate-threads=yes, a file per thread): it repeats within
// ~0.3 % run to run, where V8's helper threads (concurrent marking and compilation, a fifth of the total)
// move by ±10 % with when the GC and the JIT happen to start their work.
//
// The in-process client costs the same in every subject, so the differences carry the meaning:
// "session layer" = a subject's instructions per request minus bare Express's; each session layer is
// compared with its anchor's (SUBJECTS' `anchors`; the cheapest of them when several ran) and with the
// floor's (`express-cookie-floor`: a cookie round trip and a Map, what no cookie session can skip).
// Results go to bench/results/instructions.json, rendered by `npm run bench -- report`.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cleanUp, configOf, subjectById, type Subject } from './http.js';
import { saveResults } from './lib/report.js';

/** What the child is to do (JSON in BENCH_INSTRUCTIONS_JOB). */
export interface ChildJob {
  subject: string;
  table: string;
  prefix: string;
  warmupRequests: number;
  measuredRequests: number;
}
/** What the child answers with `done`: the counter the session held at the end (warm-up + measured when the cookie was kept). */
export interface ChildDone {
  finalCount: number;
}
/** Marks the child's protocol lines on stdout, where a library may print too. */
export const LINE_PREFIX = 'instructions-child:';

const root = fileURLToPath(new URL('../', import.meta.url));
const childScript = fileURLToPath(new URL('./lib/instructions-child.ts', import.meta.url));
const BARE = 'express-none';
const FLOOR = 'express-cookie-floor';
const DEFAULT_SUBJECTS = [BARE, FLOOR, 'express-session-memory', 'express-sessionkit-memory', 'express-sessionkit-memory-view', 'express-session-redis', 'express-sessionkit-redis', 'express-session-sessionkitstore-redis', 'express-session-pg', 'express-sessionkit-pg'];

export interface InstructionsRow {
  id: string;
  library: string;
  /** All threads' instructions over the measured window ÷ measured requests. */
  instructionsPerRequest: number;
  /** The main thread's alone (JavaScript, node's HTTP, the drivers; not V8's helper threads). */
  mainThreadInstructionsPerRequest: number;
  /** Instructions per request beyond bare Express's (all threads; main thread). */
  sessionLayerInstructions: number | undefined;
  sessionLayerMainThreadInstructions: number | undefined;
  anchor: string | undefined;
  /** This session layer's instructions (all threads) ÷ its anchor's. */
  vsAnchor: number | undefined;
  /** This session layer's instructions (all threads) ÷ the cookie floor's. */
  vsFloor: number | undefined;
  finalCount: number;
  wallSeconds: number;
}

const callgrindControl = async (instrumentation: 'on' | 'off', pid: number) => {
  const { stdout } = await promisify(execFile)('callgrind_control', ['-i', instrumentation, String(pid)]);
  if (!stdout.includes('OK')) throw new Error(`callgrind_control -i ${instrumentation} ${pid}: ${stdout}`);
};

/** Callgrind's instruction total in one file: the `totals:` line of each part (one part: nothing dumps before the exit). */
const totalInstructions = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('totals:'))
    .reduce((sum, line) => sum + Number(line.slice('totals:'.length)), 0);

/** The files of --separate-threads=yes (`<out>-01` is the main thread, valgrind's thread 1): all threads' instructions, and the main thread's. */
const threadTotals = (dir: string, outName: string) => {
  const files = readdirSync(dir).filter((name) => name.startsWith(`${outName}-`));
  if (!files.includes(`${outName}-01`)) throw new Error(`no callgrind output for the main thread in ${dir} (${files.join(', ')})`);
  return { all: files.reduce((sum, name) => sum + totalInstructions(join(dir, name)), 0), mainThread: totalInstructions(join(dir, `${outName}-01`)) };
};

/** One subject under callgrind: instructions over the measured window, and the child's final counter. */
async function measure(subject: Subject, warmupRequests: number, measuredRequests: number, dir: string) {
  const outName = `callgrind.${subject.id}`;
  const { table, prefix } = configOf(subject);
  const job: ChildJob = { subject: subject.id, table, prefix, warmupRequests, measuredRequests };
  // The same node flags as `npm run bench` (tsx, and src/ loaded from dist/); valgrind stays in this one process (no --trace-children).
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, outName)}`, process.execPath, ...process.execArgv, childScript], {
    cwd: root,
    env: { ...process.env, BENCH_INSTRUCTIONS_JOB: JSON.stringify(job) },
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
    await callgrindControl('on', child.pid!);
    child.stdin.write('go\n');
    const done = JSON.parse(await next('done')) as ChildDone;
    await callgrindControl('off', child.pid!);
    child.stdin.write('exit\n');
    if ((await exited) !== 0) throw new Error(`${subject.id}: the child exited with ${child.exitCode}:\n${stderr}`);
    return { instructions: threadTotals(dir, outName), finalCount: done.finalCount, wallSeconds: (Date.now() - started) / 1000 };
  } finally {
    child.kill();
  }
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function tableOf(rows: InstructionsRow[], warmupRequests: number, measuredRequests: number): string {
  const lines = [
    `### Instructions per request (callgrind; ${fmt(measuredRequests)} requests counted after ${fmt(warmupRequests)} uncounted, one keep-alive socket, cookie reused)`,
    '',
    '| subject | instructions/request | main thread | session layer (− bare Express) | main thread | session layer ÷ its anchor\'s | session layer ÷ the floor\'s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const vsAnchor = r.vsAnchor === undefined ? '' : `${fmt(r.vsAnchor, 2)}x ${r.anchor}`;
    const vsFloor = r.vsFloor === undefined ? '' : `${fmt(r.vsFloor, 2)}x`;
    lines.push(`| ${r.id} | ${fmt(r.instructionsPerRequest)} | ${fmt(r.mainThreadInstructionsPerRequest)} | ${fmt(r.sessionLayerInstructions)} | ${fmt(r.sessionLayerMainThreadInstructions)} | ${vsAnchor} | ${vsFloor} |`);
  }
  return lines.join('\n');
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      subjects: { type: 'string' },
      'warmup-requests': { type: 'string', default: '3000' },
      requests: { type: 'string', default: '2000' },
    },
  });
  const warmupRequests = Number(values['warmup-requests']);
  const measuredRequests = Number(values.requests);
  const subjects = (values.subjects?.split(',') ?? DEFAULT_SUBJECTS).map(subjectById);
  // The session layer is measured against bare Express: it runs in every comparison.
  if (!subjects.some((s) => s.id === BARE)) subjects.unshift(subjectById(BARE));
  const dir = mkdtempSync(join(os.tmpdir(), 'sessionkit-instructions-'));
  const measured: Array<{ subject: Subject; perRequest: number; mainThreadPerRequest: number; finalCount: number; wallSeconds: number }> = [];
  try {
    for (const subject of subjects) {
      const { instructions, finalCount, wallSeconds } = await measure(subject, warmupRequests, measuredRequests, dir);
      // Every request of the run went through one session: its counter ends at warm-up + measured.
      if (subject.id !== BARE && finalCount !== warmupRequests + measuredRequests) throw new Error(`${subject.id}: the counter ended at ${finalCount}, not ${warmupRequests + measuredRequests}: the cookie was not kept`);
      measured.push({ subject, perRequest: instructions.all / measuredRequests, mainThreadPerRequest: instructions.mainThread / measuredRequests, finalCount, wallSeconds });
      console.error(`${subject.id}: ${fmt(instructions.all / measuredRequests)} instructions/request, ${fmt(instructions.mainThread / measuredRequests)} on the main thread (${fmt(wallSeconds)} s under valgrind)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanUp();
  }

  const bare = measured.find((m) => m.subject.id === BARE)!;
  const layerOf = (id: string) => {
    const m = measured.find((x) => x.subject.id === id);
    return m === undefined ? undefined : m.perRequest - bare.perRequest;
  };
  const floor = layerOf(FLOOR);
  const rows: InstructionsRow[] = measured.map(({ subject, perRequest, mainThreadPerRequest, finalCount, wallSeconds }) => {
    const isBare = subject === bare.subject;
    const layer = isBare ? undefined : perRequest - bare.perRequest;
    // The cheapest of its anchors that ran (http.ts compares with the fastest).
    const anchors = (subject.anchors ?? []).map((id) => ({ id, layer: layerOf(id) })).filter((a): a is { id: string; layer: number } => a.layer !== undefined);
    const anchor = anchors.sort((a, b) => a.layer - b.layer)[0];
    return {
      id: subject.id,
      library: subject.library,
      instructionsPerRequest: perRequest,
      mainThreadInstructionsPerRequest: mainThreadPerRequest,
      sessionLayerInstructions: layer,
      sessionLayerMainThreadInstructions: isBare ? undefined : mainThreadPerRequest - bare.mainThreadPerRequest,
      anchor: anchor?.id,
      vsAnchor: layer === undefined || anchor === undefined ? undefined : layer / anchor.layer,
      vsFloor: layer === undefined || floor === undefined || subject.id === FLOOR ? undefined : layer / floor,
      finalCount,
      wallSeconds,
    };
  });
  const table = tableOf(rows, warmupRequests, measuredRequests);
  console.log(`${table}\n`);
  const command = `npm run bench -- instructions${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  saveResults('instructions', { command, warmupRequests, measuredRequests, valgrind: 'callgrind --instr-atstart=no --separate-threads=yes; callgrind_control -i on/off around the measured requests', rows, table });
}

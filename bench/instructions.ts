// `npm run bench -- instructions [--subjects <id,...>] [--rounds 3] [--warmup-requests 3000] [--requests 2000] [--connections 1]`
//
// Machine instructions per request of the Express counter app of bench/http.ts, bare and with each
// session layer, counted by valgrind's callgrind: a cost per request that the load of this shared
// 2-core machine blurs far less than req/s (`bench -- http` moves ±15–30 % with the neighbours).
//
// Per subject and round, one child process (bench/lib/counter-child.ts) runs under
// `valgrind --tool=callgrind --instr-atstart=no`: it builds the app, listens on 127.0.0.1:0 and drives it
// itself with one keep-alive socket, GET / one after another, sending back the session cookie (as a
// browser does). `--connections 50` drives it as `bench -- http` does instead: 50 sockets, each a browser
// with its own cookie and one request in flight, so requests interleave and more of them are alive at each
// scavenge. The warm-up requests run uninstrumented; then this process turns instrumentation on with
// `callgrind_control -i on <pid>`, the child makes the measured requests, and `callgrind_control -i off`
// ends the window. Instrumentation is one switch for the whole process, so callgrind counts every thread
// of node (the main thread, V8's parallel scavenger, concurrent marker and compiler, the module-hooks
// thread) over the window: the work a request causes, wherever it runs. Instructions per request =
// callgrind's total ÷ measured requests. The main thread is also shown alone (--separate-threads=yes,
// a file per thread), since it repeats better.
//
// Not exactly repeatable, though: V8 splits a scavenge between the main thread and its helpers by how
// the threads happen to be scheduled, and GC heuristics, node's timers and how PostgreSQL's or Redis's
// answers arrive follow wall time, which valgrind (~50x slower) and the neighbours stretch. Measured
// here: all threads within ±4 % run to run, the main thread within ±1 % with an occasional run 2–9 %
// above. Hence rounds (each subject once per round) and the median; the table shows the range.
//
// The in-process client costs the same in every subject, so the differences carry the meaning:
// "session layer" = a subject's instructions per request minus bare Express's (medians); each session
// layer is compared with its anchor's (SUBJECTS' `anchors`; the cheapest of them when several ran) and
// with its floor's: `express-cookie-floor` (a cookie round trip and a Map, what no cookie session can skip), or on
// Redis and PostgreSQL that floor with its counter read and written by key through the driver (`floorOf`).
// Results go to bench/results/instructions.json (instructions-concurrent.json with `--connections` above 1),
// rendered by `npm run bench -- report`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { cleanUp, type Subject } from './http.js';
import { BARE, checkConnections, layerRatios, loadShape, runCounterChild, subjectsToRun } from './lib/counter-runs.js';
import { spreadOf, type Spread } from './lib/markdown.js';
import { saveResults } from './lib/report.js';

export interface InstructionsRow {
  id: string;
  library: string;
  /** All threads' instructions over the measured window ÷ measured requests, over rounds. */
  instructionsPerRequest: Spread;
  /** The main thread's alone (JavaScript, node's HTTP, the drivers; not V8's helper threads). */
  mainThreadInstructionsPerRequest: Spread;
  /** Median instructions per request beyond bare Express's median (all threads; main thread). */
  sessionLayerInstructions: number | undefined;
  sessionLayerMainThreadInstructions: number | undefined;
  anchor: string | undefined;
  /**
   * This session layer's main-thread instructions ÷ its anchor's. The main thread's: V8's helper threads
   * (concurrent marking, scavenging) take a share that moves with scheduling, up to twice the all-threads
   * count in some rounds, while the main thread repeats within a few per cent.
   */
  vsAnchor: number | undefined;
  /** This session layer's main-thread instructions ÷ its store's floor's (`floorOf`), or the cookie floor's when that did not run. */
  vsFloor: number | undefined;
  /** Seconds each round took under valgrind, start to exit. */
  wallSeconds: number[];
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

/** One subject under callgrind: instructions over the measured window. */
async function measure(subject: Subject, warmupRequests: number, measuredRequests: number, connections: number, dir: string) {
  const outName = `callgrind.${subject.id}`;
  // valgrind stays in this one process (no --trace-children).
  const { wallSeconds } = await runCounterChild(subject, {
    warmupRequests,
    measuredRequests,
    connections,
    launcher: ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, outName)}`],
    beforeMeasured: (pid) => callgrindControl('on', pid),
    afterMeasured: (pid) => callgrindControl('off', pid),
  });
  return { instructions: threadTotals(dir, outName), wallSeconds };
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
/** A median and its range as a table cell: `1,234,567 (−0.4/+2.1 %)`. */
const spreadCell = (s: Spread) => `${fmt(s.median)}${s.max > s.min ? ` (−${fmt((100 * (s.median - s.min)) / s.median, 1)}/+${fmt((100 * (s.max - s.median)) / s.median, 1)} %)` : ''}`;

function tableOf(rows: InstructionsRow[], rounds: number, warmupRequests: number, measuredRequests: number, connections: number): string {
  const lines = [
    `### Instructions per request (callgrind; median of ${rounds} round(s) and range; ${fmt(measuredRequests)} requests counted after ${fmt(warmupRequests)} uncounted, ${loadShape(connections)}, cookie reused)`,
    '',
    '| subject | instructions/request, all threads | main thread | session layer (− bare Express), all threads | main thread | session layer ÷ its anchor\'s, main thread | session layer ÷ its floor\'s, main thread |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const vsAnchor = r.vsAnchor === undefined ? '' : `${fmt(r.vsAnchor, 2)}x ${r.anchor}`;
    const vsFloor = r.vsFloor === undefined ? '' : `${fmt(r.vsFloor, 2)}x`;
    lines.push(`| ${r.id} | ${spreadCell(r.instructionsPerRequest)} | ${spreadCell(r.mainThreadInstructionsPerRequest)} | ${fmt(r.sessionLayerInstructions)} | ${fmt(r.sessionLayerMainThreadInstructions)} | ${vsAnchor} | ${vsFloor} |`);
  }
  return lines.join('\n');
}

/** Fills each row's anchor (the cheapest that ran) and its main-thread ratios to it and to the floor. */
function withRatios(rows: InstructionsRow[]): InstructionsRow[] {
  const ratios = layerRatios(
    rows.map((r) => r.id),
    (id) => rows.find((r) => r.id === id)?.sessionLayerMainThreadInstructions,
  );
  return rows.map((row) => ({ ...row, ...ratios.get(row.id)! }));
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      subjects: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      'warmup-requests': { type: 'string', default: '3000' },
      requests: { type: 'string', default: '2000' },
      connections: { type: 'string', default: '1' },
    },
  });
  const rounds = Number(values.rounds);
  const warmupRequests = Number(values['warmup-requests']);
  const measuredRequests = Number(values.requests);
  const connections = Number(values.connections);
  checkConnections(connections, warmupRequests, measuredRequests);
  const subjects = subjectsToRun(values.subjects);
  const measured = new Map(subjects.map((subject) => [subject.id, { perRequest: [] as number[], mainThreadPerRequest: [] as number[], wallSeconds: [] as number[] }]));
  const dir = mkdtempSync(join(os.tmpdir(), 'sessionkit-instructions-'));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const subject of subjects) {
        const { instructions, wallSeconds } = await measure(subject, warmupRequests, measuredRequests, connections, dir);
        const m = measured.get(subject.id)!;
        m.perRequest.push(instructions.all / measuredRequests);
        m.mainThreadPerRequest.push(instructions.mainThread / measuredRequests);
        m.wallSeconds.push(wallSeconds);
        console.error(`round ${round}: ${subject.id}: ${fmt(instructions.all / measuredRequests)} instructions/request, ${fmt(instructions.mainThread / measuredRequests)} on the main thread (${fmt(wallSeconds)} s under valgrind, load ${os.loadavg()[0]!.toFixed(2)})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanUp();
  }

  const medians = (id: string) => {
    const m = measured.get(id);
    return m === undefined ? undefined : { all: spreadOf(m.perRequest).median, main: spreadOf(m.mainThreadPerRequest).median };
  };
  const bare = medians(BARE)!;
  const rows = withRatios(
    subjects.map((subject) => {
      const { perRequest, mainThreadPerRequest, wallSeconds } = measured.get(subject.id)!;
      const isBare = subject.id === BARE;
      return {
        id: subject.id,
        library: subject.library,
        instructionsPerRequest: spreadOf(perRequest),
        mainThreadInstructionsPerRequest: spreadOf(mainThreadPerRequest),
        sessionLayerInstructions: isBare ? undefined : medians(subject.id)!.all - bare.all,
        sessionLayerMainThreadInstructions: isBare ? undefined : medians(subject.id)!.main - bare.main,
        anchor: undefined,
        vsAnchor: undefined,
        vsFloor: undefined,
        wallSeconds,
      };
    }),
  );
  const table = tableOf(rows, rounds, warmupRequests, measuredRequests, connections);
  console.log(`${table}\n`);
  const command = `npm run bench -- instructions${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  saveResults(connections === 1 ? 'instructions' : 'instructions-concurrent', { command, rounds, warmupRequests, measuredRequests, connections, valgrind: 'callgrind --instr-atstart=no --separate-threads=yes; callgrind_control -i on/off around the measured requests', rows, table });
}

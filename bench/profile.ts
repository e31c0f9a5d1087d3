// `npm run bench -- profile [--seconds 5] [--warmup 2] [--subjects <id,...>] [--top 15] [--save-profiles <dir>] [--label before|after]`
//
// Where a request's CPU time goes: the Express counter app of bench/http.ts
// on memory, PostgreSQL and Redis (and bare Express for the floor), with the
// cookie reused and without one (a new session per request), under
// autocannon's 50 connections. The server child runs V8's CPU profiler (the
// one `node --cpu-prof` runs) over the measured window only, sampling every
// 100 µs; this script counts each function's self-time samples, drops idle ones, and
// prints the top frames with their share of the busy time and their cost in
// µs per request, and the same by package (sessionkit's own code, express,
// the drivers, node's internals, the garbage collector).
//
// Relative frames are what a loaded machine cannot blur much: a frame's share
// of the busy time, and its µs per request (busy time ÷ requests answered),
// move together with the code, not with the neighbours. The load average is
// printed beside each profile.
//
// Results go to bench/results/profile-<label>.json (label `after` unless
// given), which `npm run bench -- report` renders into BENCHMARKS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUp, startLoadGenerator, startServer, subjectById } from './http.js';
import { saveResults } from './lib/report.js';

const root = fileURLToPath(new URL('../', import.meta.url));

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface Frame {
  frame: string;
  area: string;
  /** Share of the busy (non-idle) time, 0..1. */
  share: number;
  /** Self time per request answered, µs. */
  microsPerRequest: number;
}

/** The profile of one subject under one load. */
export interface ProfileSummary {
  id: string;
  library: string;
  operation: string;
  requests: number;
  reqPerSecond: number;
  /** Server CPU time (process.cpuUsage) per request over the window, µs. */
  cpuMicrosPerRequest: number;
  /** Non-idle samples in the profile (one every 100 µs of wall time while busy). */
  busySamples: number;
  loadAverage: number[];
  top: Frame[];
  areas: { area: string; share: number; microsPerRequest: number }[];
}

/** Where a script lives, short: `dist/http/envelope.js`, `express/lib/response.js`, `node:internal/…`. */
function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  if (path.startsWith(root)) return path.slice(root.length);
  return path;
}

/** The package (or area) a frame belongs to. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8 / native (program)';
    return 'native';
  }
  const short = shortUrl(url);
  if (short.startsWith('dist/') || short.startsWith('src/')) return 'sessionkit';
  if (short.startsWith('node:')) return 'node internals';
  if (url.startsWith('file://') && url.includes('/node_modules/')) {
    const [first, second] = short.split('/');
    return first!.startsWith('@') ? `${first}/${second}` : first!;
  }
  if (short.startsWith('bench/')) return 'bench app';
  return short;
}

/**
 * Self time by function as a share of the busy (non-idle) samples. Samples
 * are counted, not weighted by the time to the next one: on a loaded machine
 * a descheduled process leaves a long gap that would all be charged to the
 * frame it stopped in. µs per request = share × the server's CPU time per
 * request (process.cpuUsage over the same window).
 */
export function summarize(profile: CpuProfile, cpuMicrosPerRequest: number, top: number): { busySamples: number; top: Frame[]; areas: ProfileSummary['areas'] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfSamples = new Map<string, { samples: number; area: string }>();
  let busySamples = 0;
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    busySamples++;
    const { functionName, lineNumber, url } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${shortUrl(url)}:${lineNumber + 1}`}`.trim();
    const entry = selfSamples.get(key) ?? { samples: 0, area: areaOf(node.callFrame) };
    entry.samples++;
    selfSamples.set(key, entry);
  }
  const frames = [...selfSamples.entries()].sort((a, b) => b[1].samples - a[1].samples);
  const areas = new Map<string, number>();
  for (const [, { samples, area }] of frames) areas.set(area, (areas.get(area) ?? 0) + samples);
  const of = (samples: number) => ({ share: samples / busySamples, microsPerRequest: (samples / busySamples) * cpuMicrosPerRequest });
  return {
    busySamples,
    top: frames.slice(0, top).map(([frame, { samples, area }]) => ({ frame, area, ...of(samples) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, samples]) => ({ area, ...of(samples) })),
  };
}

const DEFAULT_SUBJECTS = ['express-none', 'express-cookie-floor', 'express-sessionkit-memory', 'express-sessionkit-memory-view', 'express-session-memory', 'express-sessionkit-pg', 'express-sessionkit-redis'];
const MODES = [
  { operation: 'cookie reused', reuseCookie: true },
  { operation: 'new session per request', reuseCookie: false },
] as const;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      subjects: { type: 'string' },
      top: { type: 'string', default: '15' },
      label: { type: 'string', default: 'after' },
      'save-profiles': { type: 'string' },
      'cookie-reused-only': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const top = Number(values.top);
  const subjects = (values.subjects?.split(',') ?? DEFAULT_SUBJECTS).map(subjectById);
  const modes = values['cookie-reused-only'] ? [MODES[0]] : MODES;
  const summaries: ProfileSummary[] = [];
  const load = startLoadGenerator();
  try {
    for (const subject of subjects) {
      for (const mode of modes) {
        // A fresh server per load mode: one profile never carries the other's JIT state or sessions.
        const server = await startServer(subject);
        try {
          const request = { url: `${server.url}/`, connections: 50, reuseCookie: mode.reuseCookie };
          await load.run({ ...request, seconds: warmup });
          await server.startProfile();
          const cpuBefore = await server.cpuMicros();
          const result = await load.run({ ...request, seconds });
          const cpuMicros = (await server.cpuMicros()) - cpuBefore;
          const profile = (await server.stopProfile()) as CpuProfile;
          if (values['save-profiles'] !== undefined) {
            mkdirSync(values['save-profiles'], { recursive: true });
            writeFileSync(`${values['save-profiles']}/${subject.id}-${mode.reuseCookie ? 'reused' : 'new'}.cpuprofile`, JSON.stringify(profile));
          }
          const cpuMicrosPerRequest = cpuMicros / Math.max(1, result.total);
          const summary = summarize(profile, cpuMicrosPerRequest, top);
          const entry: ProfileSummary = {
            id: subject.id,
            library: subject.library,
            operation: mode.operation,
            requests: result.total,
            reqPerSecond: result.requestsPerSecond,
            cpuMicrosPerRequest,
            busySamples: summary.busySamples,
            loadAverage: loadAverage(),
            top: summary.top,
            areas: summary.areas,
          };
          summaries.push(entry);
          print(entry);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    load.close();
    await cleanUp();
  }
  // The command as it is reproduced; where the raw profiles went is this machine's business.
  const shown = args.filter((arg, i) => arg !== '--save-profiles' && args[i - 1] !== '--save-profiles' && !arg.startsWith('--save-profiles='));
  saveResults(`profile-${values.label}`, { command: `npm run bench -- profile${shown.length > 0 ? ` ${shown.join(' ')}` : ''}`, seconds, warmup, summaries });
}

function print(s: ProfileSummary): void {
  console.log(`### ${s.library}, ${s.operation}: ${fmt(s.reqPerSecond)} req/s, CPU ${fmt(s.cpuMicrosPerRequest, 1)} µs/req, ${fmt(s.busySamples)} busy samples (load ${s.loadAverage.join(' ')})\n`);
  console.log('| area | share | µs/req |');
  console.log('|---|---:|---:|');
  for (const a of s.areas.slice(0, 8)) console.log(`| ${a.area} | ${fmt(a.share * 100, 1)} % | ${fmt(a.microsPerRequest, 1)} |`);
  console.log('');
  console.log('| self time | area | share | µs/req |');
  console.log('|---|---|---:|---:|');
  for (const f of s.top) console.log(`| ${f.frame} | ${f.area} | ${fmt(f.share * 100, 1)} % | ${fmt(f.microsPerRequest, 1)} |`);
  console.log('');
}

// `npm run bench -- memory [--seconds 2] [--rounds 3] [--preload 1e4] [--in-flight 1,64]
//                          [--sessions 1e5] [--churn 1e6] [--max-sessions 1e5] [--value-bytes 100]`
//
// sessionkit's MemoryBackend against express-session's
// MemoryStore and the `memorystore` package, in the same run.
//  - ops/s of get and set on `--preload` sessions, in this process, rounds
//    interleaved so noise spreads over every store alike. Every store hands
//    back the session object: sessionkit's row JSON.parses / JSON.stringifies
//    as an app would (the express stores do it inside); the "string in/out"
//    row shows the backend alone.
//  - bytes per session: heap growth (after a forced GC) over `--sessions`
//    sessions of `--value-bytes`-byte JSON values, each store in a child
//    process of its own started with --expose-gc.
//  - churn: `--churn` sessions created one after another with the bounded
//    stores capped at `--max-sessions` (express-session's MemoryStore has no
//    bound); the heap after a GC at ten checkpoints.
//
// Results: bench/results/memory.json.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { saveResults } from './lib/report.js';
import { expressMemoryStoreSubject, memorystoreSubject, sessionkitSubject, sessionValue, type MemorySubject } from './lib/memory-subjects.js';
import { throughput } from './lib/throughput.js';

const run_ = promisify(execFile);
const childScript = fileURLToPath(new URL('./lib/memory-child.ts', import.meta.url));

/** One store's ops/s for one operation at one concurrency, over rounds. */
export interface MemoryCell {
  library: string;
  operation: 'get' | 'set';
  inFlight: number;
  opsPerSecond: number[];
  median: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const count = (text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new TypeError(`not a positive count: ${text}`);
  return n;
};

async function inChild<T>(request: object): Promise<T> {
  const { stdout } = await run_(process.execPath, ['--expose-gc', ...process.execArgv, childScript, JSON.stringify(request)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/** `npm run bench -- memory`: see the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      preload: { type: 'string', default: '1e4' },
      'in-flight': { type: 'string', default: '1,64' },
      sessions: { type: 'string', default: '1e5' },
      churn: { type: 'string', default: '1e6' },
      'max-sessions': { type: 'string', default: '1e5' },
      'value-bytes': { type: 'string', default: '100' },
      parts: { type: 'string', default: 'ops,bytes,churn' },
    },
  });
  const durationMs = Number(values.seconds) * 1000;
  const rounds = count(values.rounds);
  const preload = count(values.preload);
  const inFlights = values['in-flight'].split(',').map(count);
  const valueBytes = count(values['value-bytes']);
  const parts = values.parts.split(',');
  const command = `npm run bench -- memory ${args.join(' ')}`.trim();
  const saved: Record<string, unknown> = { command, durationMs, rounds, preload, valueBytes };

  if (parts.includes('ops')) {
    const subjects: MemorySubject[] = [sessionkitSubject(), sessionkitSubject({ json: false }), expressMemoryStoreSubject(), memorystoreSubject()];
    const values_ = Array.from({ length: 1024 }, (_, i) => sessionValue(i, valueBytes));
    const keys = new Map<MemorySubject, string[]>();
    for (const subject of subjects) {
      const mine: string[] = [];
      for (let i = 0; i < preload; i++) mine.push(await subject.create(values_[i % values_.length]!));
      keys.set(subject, mine);
    }
    const cells: MemoryCell[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const inFlight of inFlights) {
        for (const operation of ['get', 'set'] as const) {
          for (const subject of subjects) {
            const mine = keys.get(subject)!;
            const op =
              operation === 'get'
                ? (i: number) => subject.get(mine[i % mine.length]!)
                : (i: number) => subject.set(mine[i % mine.length]!, values_[i & 1023]!);
            const opsPerSecond = await throughput({ inFlight, durationMs, warmupMs: Math.min(500, durationMs / 4), op });
            let cell = cells.find((c) => c.library === subject.library && c.operation === operation && c.inFlight === inFlight);
            if (cell === undefined) cells.push((cell = { library: subject.library, operation, inFlight, opsPerSecond: [], median: 0 }));
            cell.opsPerSecond.push(opsPerSecond);
            cell.median = median(cell.opsPerSecond);
            console.error(`round ${round + 1}: ${subject.library} ${operation} x${inFlight}: ${Math.round(opsPerSecond)} ops/s`);
          }
        }
      }
    }
    for (const subject of subjects) await subject.close();
    // Target: sessionkit (with JSON, as apps use it) >= 2x the faster of the other two.
    const targets = inFlights.flatMap((inFlight) =>
      (['get', 'set'] as const).map((operation) => {
        const of = (library: string) => cells.find((c) => c.library === library && c.operation === operation && c.inFlight === inFlight)!.median;
        const fastestOther = Math.max(of('express-session MemoryStore'), of('memorystore'));
        const ratio = of('sessionkit MemoryBackend') / fastestOther;
        return { operation, inFlight, ratio, rawRatio: of('sessionkit MemoryBackend (string in/out)') / fastestOther, limit: 2, met: ratio >= 2 };
      }),
    );
    saved.ops = { cells, targets };
    console.log('\n| operation | in flight | store | ops/s (median) | range |\n|---|---:|---|---:|---|');
    for (const c of cells) console.log(`| ${c.operation} | ${c.inFlight} | ${c.library} | ${Math.round(c.median)} | ${Math.round(Math.min(...c.opsPerSecond))}–${Math.round(Math.max(...c.opsPerSecond))} |`);
    for (const t of targets) console.log(`target ${t.operation} x${t.inFlight}: ${t.ratio.toFixed(2)}x the faster other (string in/out ${t.rawRatio.toFixed(2)}x) ${t.met ? 'met' : 'MISSED'}`);
  }

  if (parts.includes('bytes')) {
    const sessions = count(values.sessions);
    const bytes = [];
    for (const library of ['sessionkit', 'express-session', 'memorystore']) {
      const result = await inChild<{ library: string; bytesPerSession: number }>({ mode: 'bytes', library, sessions, valueBytes });
      console.error(`${result.library}: ${result.bytesPerSession.toFixed(0)} bytes/session`);
      bytes.push(result);
    }
    saved.bytes = { sessions, results: bytes };
  }

  if (parts.includes('churn')) {
    const total = count(values.churn);
    const maxSessions = count(values['max-sessions']);
    const churn = [];
    for (const library of ['sessionkit', 'memorystore', 'express-session']) {
      const result = await inChild<{ library: string; heap: { created: number; heapUsed: number }[] }>({
        mode: 'churn',
        library,
        total,
        maxSessions: library === 'express-session' ? undefined : maxSessions,
        valueBytes,
        checkpoints: 10,
      });
      const heap = result.heap;
      console.error(`${result.library} churn: heap ${(heap[1]!.heapUsed / 2 ** 20).toFixed(0)} MiB after ${heap[1]!.created}, ${(heap[heap.length - 1]!.heapUsed / 2 ** 20).toFixed(0)} MiB after ${total}`);
      churn.push(result);
    }
    saved.churn = { total, maxSessions, results: churn };
  }
  saveResults('memory', saved);
}

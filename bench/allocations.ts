// `npm run bench -- allocations [--subjects <id,...>] [--rounds 2] [--warmup-requests 10000] [--requests 5000] [--connections 50] [--sampling-bytes 64]`
//
// Bytes allocated per request by the Express counter app of bench/http.ts, bare and with each session
// layer: what the scavenger has to clear after every request, a cost the CPU profile spreads over GC
// frames and instructions on the main thread (bench/instructions.ts) do not show where it comes from.
//
// Per subject and round, one child process (bench/lib/counter-child.ts) builds the app and drives it
// itself, as for `bench -- instructions` but at full speed (no valgrind): by default 50 keep-alive clients,
// each with its own cookie and one request in flight, the load shape of `bench -- http`. After the warm-up,
// V8's sampling heap profiler runs over the measured requests with objects collected by either GC kept in
// the profile; bytes per request = the bytes the profile accounts for ÷ measured requests. Sampling takes
// one allocation per `--sampling-bytes` bytes on average and scales each sample back up, so the total is
// an estimate: runs of the same build agree within about 0.5 %, and 2,000 sampled requests give what 20,000
// do within that. The profiler's cost grows faster than the requests it samples (5,000 take about 15 s,
// 20,000 more than 3 minutes), hence the default.
//
// As in bench/instructions.ts, the in-process client allocates the same in every subject: "session layer"
// = a subject's bytes per request minus bare Express's (medians), compared with its anchor's and its floor's.
// Results go to bench/results/allocations.json, rendered by `npm run bench -- report`.
import { parseArgs } from 'node:util';
import { cleanUp } from './http.js';
import { BARE, checkConnections, layerRatios, loadShape, runCounterChild, subjectsToRun } from './lib/counter-runs.js';
import { num, spreadCell, spreadOf, table, type Spread } from './lib/markdown.js';
import { saveResults } from './lib/report.js';

export interface AllocationsRow {
  id: string;
  library: string;
  /** Sampled bytes allocated over the measured window ÷ measured requests, over rounds. */
  bytesPerRequest: Spread;
  /** Median bytes per request beyond bare Express's median. */
  sessionLayerBytes: number | undefined;
  anchor: string | undefined;
  /** This session layer's bytes ÷ its cheapest anchor's. */
  vsAnchor: number | undefined;
  /** This session layer's bytes ÷ its store's floor's, or the cookie floor's when that did not run. */
  vsFloor: number | undefined;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      subjects: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      'warmup-requests': { type: 'string', default: '10000' },
      requests: { type: 'string', default: '5000' },
      connections: { type: 'string', default: '50' },
      'sampling-bytes': { type: 'string', default: '64' },
    },
  });
  const rounds = Number(values.rounds);
  const warmupRequests = Number(values['warmup-requests']);
  const measuredRequests = Number(values.requests);
  const connections = Number(values.connections);
  const samplingIntervalBytes = Number(values['sampling-bytes']);
  checkConnections(connections, warmupRequests, measuredRequests);
  if (!Number.isInteger(samplingIntervalBytes) || samplingIntervalBytes < 1) throw new TypeError(`--sampling-bytes must be a whole number ≥ 1 (got ${values['sampling-bytes']})`);
  const subjects = subjectsToRun(values.subjects);
  const measured = new Map(subjects.map((subject) => [subject.id, [] as number[]]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const subject of subjects) {
        const { done } = await runCounterChild(subject, { warmupRequests, measuredRequests, connections, samplingIntervalBytes });
        const perRequest = done.allocatedBytes! / measuredRequests;
        measured.get(subject.id)!.push(perRequest);
        console.error(`round ${round}: ${subject.id}: ${num(perRequest)} bytes/request`);
      }
    }
  } finally {
    await cleanUp();
  }

  const median = (id: string) => spreadOf(measured.get(id)!).median;
  const layerOf = (id: string) => (id === BARE || !measured.has(id) ? undefined : median(id) - median(BARE));
  const ratios = layerRatios([...measured.keys()], layerOf);
  const rows: AllocationsRow[] = subjects.map((subject) => ({
    id: subject.id,
    library: subject.library,
    bytesPerRequest: spreadOf(measured.get(subject.id)!),
    sessionLayerBytes: layerOf(subject.id),
    ...ratios.get(subject.id)!,
  }));
  const text = [
    `### Bytes allocated per request (V8 sampling heap profiler, one sample per ${num(samplingIntervalBytes)} bytes on average; median of ${rounds} round(s) and range; ${num(measuredRequests)} requests sampled after ${num(warmupRequests)} unsampled, ${loadShape(connections)}, cookie reused)`,
    '',
    table(
      ['subject', 'bytes/request', 'session layer (− bare Express)', "session layer ÷ its anchor's", "session layer ÷ its floor's"],
      rows.map((r) => [r.id, spreadCell(r.bytesPerRequest, 0), num(r.sessionLayerBytes), r.vsAnchor === undefined ? '' : `${num(r.vsAnchor, 2)}x ${r.anchor}`, r.vsFloor === undefined ? '' : `${num(r.vsFloor, 2)}x`]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  ].join('\n');
  console.log(`${text}\n`);
  const command = `npm run bench -- allocations${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  saveResults('allocations', { command, rounds, warmupRequests, measuredRequests, connections, samplingIntervalBytes, rows, table: text });
}

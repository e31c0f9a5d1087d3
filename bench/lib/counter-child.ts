// Run by bench/lib/counter-runs.ts, one subject per process: the counter app of bench/http.ts and its client
// in this one process, so that what is measured (by callgrind around the process for bench/instructions.ts,
// by V8's sampling heap profiler inside it for bench/allocations.ts) is both, and nothing else. Server and
// client share the event loop: `connections` keep-alive sockets, each a browser of its own with its own
// cookie, each sending its next request when the last one was answered (one socket: one request at a time).
// Talks to the parent by lines: stdout `warm` → stdin `go` (the parent has started measuring)
// → stdout `done <json>` → stdin `exit` (the parent has stopped).
import { Agent, request } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { buildApp, subjectById } from '../http.js';
import { LINE_PREFIX, type ChildDone, type ChildJob } from './counter-runs.js';

const job = JSON.parse(process.env.BENCH_COUNTER_JOB ?? '') as ChildJob;
const app = await buildApp(subjectById(job.subject), { table: job.table, prefix: job.prefix });
await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
const { port } = app.server.address() as AddressInfo;
const { connections } = job;
// Sockets kept alive: a connection's set-up stays out of the per-request count, as with a browser.
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const cookies = Array.from({ length: connections }, () => '');

/** GET / with the session cookie `client` was last set, as a browser sends it; answers the counter. */
const get = (client: number) =>
  new Promise<number>((resolve, reject) => {
    const cookie = cookies[client]!;
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: cookie === '' ? {} : { cookie } }, (res) => {
      const set = res.headers['set-cookie']?.[0]?.split(';', 1)[0];
      // An expiring cookie (empty value) is dropped, as a browser would.
      if (set !== undefined) cookies[client] = set.endsWith('=') ? '' : set;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(body)) : reject(new Error(`${job.subject}: HTTP ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const expect = async (word: string) => {
  const { value } = await lines.next();
  if (value !== word) throw new Error(`expected ${word} from the parent, got ${String(value)}`);
};

/** `requests` requests in all, an equal share from each client (the parent makes them divide evenly); each client's last counter. */
const drive = (requests: number) =>
  Promise.all(
    cookies.map(async (_, client) => {
      let count = 0;
      for (let i = 0; i < requests / connections; i++) count = await get(client);
      return count;
    }),
  );

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}
/** Bytes a sampling profile accounts for: V8 scales each sample by the chance that an allocation of its size is sampled. */
const sampledBytes = (node: SamplingNode): number => node.children.reduce((sum, child) => sum + sampledBytes(child), node.selfSize);

/**
 * What `requests` allocate, by V8's sampling heap profiler: objects that died young or old count too (the
 * profiler otherwise keeps only the live ones), since every byte a request allocates is the scavenger's work.
 */
async function allocatedBy(requests: number, samplingInterval: number): Promise<{ finalCounts: number[]; allocatedBytes: number }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const finalCounts = await drive(requests);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SamplingNode } };
  session.disconnect();
  return { finalCounts, allocatedBytes: sampledBytes(profile.head) };
}

await drive(job.warmupRequests);
console.log(`${LINE_PREFIX}warm`);
await expect('go');
const done: ChildDone = job.samplingIntervalBytes === undefined ? { finalCounts: await drive(job.measuredRequests) } : await allocatedBy(job.measuredRequests, job.samplingIntervalBytes);
console.log(`${LINE_PREFIX}done ${JSON.stringify(done)}`);
await expect('exit');
agent.destroy();
app.server.closeAllConnections();
app.server.close();
await app.close();
process.exit(0);

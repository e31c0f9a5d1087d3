// Run by bench/instructions.ts under `valgrind --tool=callgrind --instr-atstart=no`, one subject per process:
// the counter app of bench/http.ts and its client in this one process, so that callgrind counts both, and
// nothing else. Server and client share the event loop: `connections` keep-alive sockets, each a browser of
// its own with its own cookie, each sending its next request when the last one was answered (one socket:
// one request at a time).
// Talks to the parent by lines: stdout `warm` → stdin `go` (the parent has turned instrumentation on)
// → stdout `done <json>` → stdin `exit` (the parent has turned it off again).
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { buildApp, subjectById } from '../http.js';
import { LINE_PREFIX, type ChildDone, type ChildJob } from '../instructions.js';

const job = JSON.parse(process.env.BENCH_INSTRUCTIONS_JOB ?? '') as ChildJob;
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

await drive(job.warmupRequests);
console.log(`${LINE_PREFIX}warm`);
await expect('go');
const finalCounts = await drive(job.measuredRequests);
console.log(`${LINE_PREFIX}done ${JSON.stringify({ finalCounts } satisfies ChildDone)}`);
await expect('exit');
agent.destroy();
app.server.closeAllConnections();
app.server.close();
await app.close();
process.exit(0);

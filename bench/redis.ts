// `npm run bench -- redis [--seconds N] [--rounds N] [--preload N] [--in-flight 1,64] [--ops get,set,generate,clear]
//                        [--libraries sessionkit,cr-ioredis,cr-ioredis-ap,cr-redis,raw,raw-ap]`
//
// Ops/s of get, set, generate and clear for sessionkit's
// RedisBackend, connect-redis (express-session's Redis store) with ioredis
// (plain and auto-pipelined) and with the `redis` client, and raw ioredis with
// one command per operation (plain and auto-pipelined), on the same server in
// the same run, each library on a connection and key prefix of its own, cells
// interleaved so that noise on the shared machine spreads over every library
// alike. Every get checks that it found its session (a miss counts as an
// error). sessionkit's get also returns the seconds left (one script call);
// raw ioredis's is a bare GET.
import { parseArgs, promisify } from 'node:util';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisBackend } from '../src/backends/redis/index.js';
import { generateKey } from '../src/core/keys.js';
import { ONE_WEEK } from '../src/core/period.js';
import { fill, measure, type Measurement } from './lib/measure.js';
import { printTable, saveResults } from './lib/report.js';
import { newSid, sessionJson, sessionObject } from './lib/session-fixture.js';
import { ioredisForConnectRedis } from './lib/connect-redis-on-ioredis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPERATIONS = ['get', 'set', 'generate', 'clear'] as const;
type Operation = (typeof OPERATIONS)[number];

/** The target: sessionkit >= 1.5x the faster connect-redis on get and set at 64 in flight. */
const TARGETS: { operation: Operation; inFlight: number; ratio: number }[] = [
  { operation: 'get', inFlight: 64, ratio: 1.5 },
  { operation: 'set', inFlight: 64, ratio: 1.5 },
];

/** One library under test, reduced to the four operations under a key prefix of its own. */
interface Subject {
  /** Short name for `--libraries`. */
  id: string;
  library: string;
  prefix: string;
  generate(): Promise<string>;
  /** Rejects unless the session was found. */
  get(key: string): Promise<void>;
  set(key: string): Promise<void>;
  clear(key: string): Promise<void>;
  /** Closes what the subject opened. */
  teardown(): Promise<void>;
}


function ioredis(autoPipelining = false): Redis {
  const client = new Redis(REDIS_URL, { enableAutoPipelining: autoPipelining });
  client.on('error', (error: Error) => console.error('ioredis:', error.message));
  return client;
}

function sessionkitSubject(): Subject {
  const client = ioredis();
  const prefix = 'bench:sessionkit:';
  const backend = new RedisBackend(client, { prefix });
  return {
    id: 'sessionkit',
    library: 'sessionkit',
    prefix,
    generate: () => backend.generate({ value: sessionJson }),
    async get(key) {
      const result = await backend.get(key);
      if (!result.ok) throw new Error(`sessionkit: ${result.error}`);
    },
    set: (key) => backend.set(key, sessionJson),
    clear: (key) => backend.clear(key),
    async teardown() {
      await backend.close();
      await client.quit();
    },
  };
}


function connectRedisSubject(id: string, library: string, client: unknown, close: () => Promise<unknown>): Subject {
  const prefix = `bench:${id}:`;
  const store = new RedisStore({ client, prefix });
  const get = promisify(store.get.bind(store));
  const set = promisify(store.set.bind(store)) as (sid: string, sess: SessionData) => Promise<void>;
  const destroy = promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>;
  return {
    id,
    library,
    prefix,
    async generate() {
      const sid = newSid();
      await set(sid, sessionObject() as unknown as SessionData);
      return sid;
    },
    async get(sid) {
      if (!(await get(sid))) throw new Error(`${library}: no session`);
    },
    set: (sid) => set(sid, sessionObject() as unknown as SessionData),
    clear: (sid) => destroy(sid),
    teardown: async () => {
      await close();
    },
  };
}

function rawIoredisSubject(autoPipelining: boolean): Subject {
  const client = ioredis(autoPipelining);
  const id = autoPipelining ? 'raw-ap' : 'raw';
  const library = autoPipelining ? 'raw ioredis, auto-pipelined' : 'raw ioredis';
  const prefix = `bench:${id}:`;
  return {
    id,
    library,
    prefix,
    async generate() {
      const key = generateKey();
      await client.set(prefix + key, sessionJson, 'EX', ONE_WEEK);
      return key;
    },
    async get(key) {
      if ((await client.get(prefix + key)) === null) throw new Error(`${library}: no session`);
    },
    async set(key) {
      await client.set(prefix + key, sessionJson, 'EX', ONE_WEEK, 'XX');
    },
    async clear(key) {
      await client.del(prefix + key);
    },
    async teardown() {
      await client.quit();
    },
  };
}

async function makeSubjects(wanted: string[] | undefined): Promise<Subject[]> {
  const factories: [string, () => Promise<Subject>][] = [
    ['sessionkit', async () => sessionkitSubject()],
    [
      'cr-ioredis',
      async () => {
        const client = ioredis();
        return connectRedisSubject('cr-ioredis', 'connect-redis + ioredis', ioredisForConnectRedis(client), () => client.quit());
      },
    ],
    [
      'cr-ioredis-ap',
      async () => {
        const client = ioredis(true);
        return connectRedisSubject('cr-ioredis-ap', 'connect-redis + ioredis, auto-pipelined', ioredisForConnectRedis(client), () => client.quit());
      },
    ],
    [
      'cr-redis',
      async () => {
        const client = createClient({ url: REDIS_URL });
        client.on('error', (error: Error) => console.error('redis:', error.message));
        await client.connect();
        return connectRedisSubject('cr-redis', 'connect-redis + redis', client, () => client.close());
      },
    ],
    ['raw', async () => rawIoredisSubject(false)],
    ['raw-ap', async () => rawIoredisSubject(true)],
  ];
  const unknown = wanted?.filter((id) => !factories.some(([name]) => name === id));
  if (unknown !== undefined && unknown.length > 0) throw new TypeError(`unknown --libraries ${unknown.join(',')}; known: ${factories.map(([name]) => name).join(',')}`);
  const chosen = factories.filter(([name]) => wanted === undefined || wanted.includes(name));
  return Promise.all(chosen.map(([, make]) => make()));
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Deletes the keys of one prefix (SCAN, so Redis is never blocked). */
async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** `npm run bench -- redis`: see the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      preload: { type: 'string', default: '10000' },
      'in-flight': { type: 'string', default: '1,64' },
      ops: { type: 'string', default: OPERATIONS.join(',') },
      libraries: { type: 'string' },
    },
  });
  const durationMs = Number(values.seconds) * 1000;
  const warmupMs = Math.min(1000, durationMs / 4);
  const preload = Number(values.preload);
  const rounds = Number(values.rounds);
  const inFlights = values['in-flight'].split(',').map(Number);
  const operations = values.ops.split(',') as Operation[];
  if (!(durationMs > 0) || !(preload > 0) || !(rounds >= 1) || inFlights.some((n) => !(n > 0)) || operations.some((op) => !OPERATIONS.includes(op))) {
    throw new TypeError(`bad arguments: ${args.join(' ')}`);
  }

  const admin = ioredis();
  const subjects = await makeSubjects(values.libraries?.split(','));
  const cleanup = async () => {
    for (const subject of subjects) await deletePrefix(admin, subject.prefix).catch(() => undefined);
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);

  const results: Measurement[] = [];
  try {
    await cleanup();
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    const liveKeys = new Map<Subject, string[]>();
    for (const subject of subjects) liveKeys.set(subject, await fill(preload, 64, () => subject.generate()));
    const title = `Redis ${version} at ${REDIS_URL}, ${durationMs / 1000} s per cell after ${warmupMs / 1000} s warm-up, ${preload} sessions preloaded per library`;
    console.log(`${title}\nvalue: ${sessionJson.length} bytes of JSON\n`);

    // Each cell runs `rounds` times, the libraries in a rotating order, so that a
    // burst of load from elsewhere hits every library alike. The table shows the
    // median round; ratios against connect-redis are taken within each round.
    const rounds_: { operation: Operation; inFlight: number; round: number; results: Measurement[] }[] = [];
    for (const inFlight of inFlights) {
      for (const operation of operations) {
        for (let round = 0; round < rounds; round++) {
          const inRound: Measurement[] = [];
          for (let s = 0; s < subjects.length; s++) {
            const subject = subjects[(s + round) % subjects.length] as Subject;
            const live = liveKeys.get(subject) as string[];
            let op: (i: number) => Promise<unknown>;
            if (operation === 'get') op = (i) => subject.get(live[i % live.length] as string);
            else if (operation === 'set') op = (i) => subject.set(live[i % live.length] as string);
            else if (operation === 'generate') op = () => subject.generate();
            else {
              // Clearing must remove a real session each time: stock 1.5x what this
              // library's fastest write at this concurrency managed (untimed).
              const writes = rounds_.flatMap((r) => r.results).filter((r) => r.library === subject.library && r.inFlight === inFlight && (r.operation === 'set' || r.operation === 'generate'));
              const fastest = Math.max(0, ...writes.map((r) => r.opsPerSecond));
              const spare = await fill(Math.ceil(1.5 * (fastest || 50_000) * ((durationMs + warmupMs) / 1000)), 64, () => subject.generate());
              op = (i) => subject.clear(spare[i % spare.length] as string);
            }
            const result = await measure({ library: subject.library, operation, inFlight, durationMs, warmupMs, op });
            inRound.push(result);
            console.error(`round ${round + 1}: ${subject.library} ${operation} x${inFlight}: ${fmt(result.opsPerSecond)} ops/s, ${result.errors} errors`);
          }
          rounds_.push({ operation, inFlight, round, results: inRound });
        }
        for (const subject of subjects) {
          const all = rounds_.filter((r) => r.operation === operation && r.inFlight === inFlight).flatMap((r) => r.results.filter((m) => m.library === subject.library));
          const mid = median(all.map((m) => m.opsPerSecond));
          results.push(all.find((m) => m.opsPerSecond === mid) as Measurement);
        }
      }
    }

    console.log('');
    const table = printTable(`${title}; median of ${rounds} rounds`, results);
    const spread = ['### Spread over the rounds (ops/s, min - max)', '', '| operation | in flight | library | min | max |', '|---|---:|---|---:|---:|'];
    for (const r of results) {
      const all = rounds_.filter((x) => x.operation === r.operation && x.inFlight === r.inFlight).flatMap((x) => x.results.filter((m) => m.library === r.library)).map((m) => m.opsPerSecond);
      spread.push(`| ${r.operation} | ${r.inFlight} | ${r.library} | ${fmt(Math.min(...all))} | ${fmt(Math.max(...all))} |`);
    }
    console.log(`${spread.join('\n')}\n`);
    const targets = TARGETS.filter((t) => inFlights.includes(t.inFlight) && operations.includes(t.operation)).map((t) => {
      // Per round: sessionkit ÷ the faster connect-redis of that same round.
      const ratios = rounds_
        .filter((r) => r.operation === t.operation && r.inFlight === t.inFlight)
        .map((r) => {
          const mine = r.results.find((m) => m.library === 'sessionkit');
          const rival = Math.max(0, ...r.results.filter((m) => m.library.startsWith('connect-redis')).map((m) => m.opsPerSecond));
          return mine && rival > 0 ? mine.opsPerSecond / rival : undefined;
        })
        .filter((x): x is number => x !== undefined);
      const measured = ratios.length > 0 ? median(ratios) : undefined;
      return { ...t, ratios, measured, met: measured !== undefined && measured >= t.ratio };
    });
    const lines = ['### Targets: sessionkit ÷ the faster connect-redis of the same round', '', '| operation | in flight | target | median | per round | met |', '|---|---:|---:|---:|---|---|'];
    for (const t of targets) {
      lines.push(`| ${t.operation} | ${t.inFlight} | >= ${t.ratio}x | ${t.measured === undefined ? 'n/a' : `${t.measured.toFixed(2)}x`} | ${t.ratios.map((x) => x.toFixed(2)).join(', ')} | ${t.met ? 'yes' : 'NO'} |`);
    }
    console.log(`${lines.join('\n')}\n`);
    saveResults('redis', { server: `Redis ${version}`, durationMs, warmupMs, roundCount: rounds, preload, valueBytes: sessionJson.length, results, rounds: rounds_, targets, table });
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
    for (const subject of subjects) await subject.teardown().catch((error: unknown) => console.error(`${subject.library}: teardown failed:`, error));
    await admin.quit();
  }
}

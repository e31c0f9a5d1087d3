// `npm run bench -- postgres [--seconds 3] [--rounds 3] [--preload 10000] [--in-flight 1,64]
//                           [--ops get,set,generate,clear] [--libraries sessionkit,connect-pg-simple,raw pg]`
//
// Ops/s of get, set, generate and clear for sessionkit's
// PostgresBackend, connect-pg-simple (express-session's PostgreSQL store) and
// raw `pg` with one text query per operation, on the same server, each with its
// own `pg` Pool of the same size. Each cell is split into short rounds that
// alternate between the libraries and the median round is reported, so that a
// burst of load from elsewhere on the shared machine hits every library alike. Every operation checks its own
// answer (a get that finds nothing counts as an error), so a broken fast path
// cannot pass for a fast one.
import { promisify, parseArgs } from 'node:util';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { SessionData } from 'express-session';
import pg from 'pg';
import { PostgresBackend } from '../src/backends/postgres/index.js';
import { generateKey } from '../src/core/keys.js';
import { ONE_WEEK } from '../src/core/period.js';
import { fill, measure, type Measurement } from './lib/measure.js';
import { printTable, saveResults } from './lib/report.js';
import { newSid, sessionJson, sessionObject } from './lib/session-fixture.js';

const POOL_MAX = 10;
const OPERATIONS = ['get', 'set', 'generate', 'clear'] as const;
type Operation = (typeof OPERATIONS)[number];

/** The targets: sessionkit ÷ connect-pg-simple at a given concurrency. */
const TARGETS: { operation: Operation; inFlight: number; ratio: number }[] = [
  ...OPERATIONS.map((operation) => ({ operation, inFlight: 64, ratio: operation === 'get' ? 8 : 4 })),
  ...OPERATIONS.map((operation) => ({ operation, inFlight: 1, ratio: 1.3 })),
];

/** One library under test, reduced to the four operations on a table of its own. */
interface Subject {
  library: string;
  pool: pg.Pool;
  table: string;
  /** Creates a fresh table (dropping a leftover from an interrupted run). */
  setup(): Promise<void>;
  generate(): Promise<string>;
  /** Rejects unless the session was found with a value. */
  get(key: string): Promise<void>;
  set(key: string): Promise<void>;
  clear(key: string): Promise<void>;
  /** Drops the table; the pool is ended by the caller. */
  teardown(): Promise<void>;
}


const connection: pg.ClientConfig = process.env.DATABASE_URL
  ? { connectionString: process.env.DATABASE_URL }
  : { host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER ?? process.env.USER ?? 'postgres' };

function newPool(): pg.Pool {
  const pool = new pg.Pool({ ...connection, max: POOL_MAX });
  pool.on('error', (error) => console.error('idle pool client failed:', error.message));
  return pool;
}

function sessionkitSubject(): Subject {
  const pool = newPool();
  const table = 'bench_sessionkit';
  const backend = new PostgresBackend(pool, { table });
  return {
    library: 'sessionkit',
    pool,
    table,
    async setup() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await backend.ensureSchema();
    },
    generate: () => backend.generate({ value: sessionJson }),
    async get(key) {
      const result = await backend.get(key);
      if (!result.ok) throw new Error(`sessionkit: ${result.error} for ${key}`);
    },
    set: (key) => backend.set(key, sessionJson),
    clear: (key) => backend.clear(key),
    async teardown() {
      await backend.close();
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
    },
  };
}

function rawPgSubject(): Subject {
  const pool = newPool();
  const table = 'bench_raw_pg';
  return {
    library: 'raw pg',
    pool,
    table,
    async setup() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.query(`CREATE TABLE ${table} (session_key char(40) PRIMARY KEY, expire_date timestamp(2) with time zone NOT NULL, session_data text)`);
      await pool.query(`CREATE INDEX ${table}_expire_date ON ${table} (expire_date)`);
    },
    async generate() {
      const key = generateKey();
      await pool.query(`INSERT INTO ${table} (session_key, expire_date, session_data) VALUES ($1::char(40), NOW() + make_interval(secs => $2::int), $3::text)`, [key, ONE_WEEK, sessionJson]);
      return key;
    },
    async get(key) {
      const { rows } = await pool.query(
        `SELECT session_data, GREATEST(0, floor(extract(epoch FROM expire_date - NOW())))::int AS period FROM ${table} WHERE session_key = $1::char(40) AND expire_date > NOW()`,
        [key],
      );
      if (rows.length !== 1 || rows[0].session_data === null) throw new Error(`raw pg: no session ${key}`);
    },
    async set(key) {
      const { rowCount } = await pool.query(
        `UPDATE ${table} SET session_data = $2::text, expire_date = NOW() + make_interval(secs => $3::int) WHERE session_key = $1::char(40) AND expire_date > NOW()`,
        [key, sessionJson, ONE_WEEK],
      );
      if (rowCount !== 1) throw new Error(`raw pg: set missed ${key}`);
    },
    async clear(key) {
      await pool.query(`DELETE FROM ${table} WHERE session_key = $1::char(40)`, [key]);
    },
    async teardown() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
    },
  };
}

function connectPgSimpleSubject(): Subject {
  const pool = newPool();
  const table = 'bench_connect_pg_simple';
  const PGStore = connectPgSimple(session);
  const store = new PGStore({ pool, tableName: table, createTableIfMissing: false, pruneSessionInterval: false });
  const get = promisify(store.get.bind(store));
  const set = promisify(store.set.bind(store)) as (sid: string, sess: SessionData) => Promise<void>;
  const destroy = promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>;
  // express-session saves a new session under uid-safe's 24 random bytes as base64url.
  return {
    library: 'connect-pg-simple',
    pool,
    table,
    async setup() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      // connect-pg-simple's table.sql, under our table name.
      await pool.query(`CREATE TABLE ${table} (sid varchar NOT NULL COLLATE "default", sess json NOT NULL, expire timestamp(6) NOT NULL, CONSTRAINT ${table}_pkey PRIMARY KEY (sid))`);
      await pool.query(`CREATE INDEX ${table}_expire ON ${table} (expire)`);
    },
    async generate() {
      const sid = newSid();
      await set(sid, sessionObject() as unknown as SessionData);
      return sid;
    },
    async get(sid) {
      if (!(await get(sid))) throw new Error(`connect-pg-simple: no session ${sid}`);
    },
    async set(sid) {
      await set(sid, sessionObject() as unknown as SessionData);
    },
    async clear(sid) {
      await destroy(sid);
    },
    async teardown() {
      await store.close();
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
    },
  };
}

const ratioOf = (results: Measurement[], operation: string, inFlight: number, other: string) => {
  const find = (library: string) => results.find((r) => r.library === library && r.operation === operation && r.inFlight === inFlight);
  const mine = find('sessionkit');
  const theirs = find(other);
  return mine && theirs ? mine.opsPerSecond / theirs.opsPerSecond : undefined;
};

/** `npm run bench -- postgres`: see the header comment; flags as in the header comment. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '3' },
      preload: { type: 'string', default: '10000' },
      'in-flight': { type: 'string', default: '1,64' },
      ops: { type: 'string', default: OPERATIONS.join(',') },
      rounds: { type: 'string', default: '3' },
      libraries: { type: 'string' },
    },
  });
  const durationMs = Number(values.seconds) * 1000;
  const rounds = Number(values.rounds);
  const roundMs = durationMs / rounds;
  const warmupMs = Math.min(1000, roundMs / 4);
  const preload = Number(values.preload);
  const inFlights = values['in-flight'].split(',').map(Number);
  const operations = values.ops.split(',') as Operation[];
  if (!(durationMs > 0) || !Number.isInteger(rounds) || !(rounds > 0) || !(preload > 0) || inFlights.some((n) => !(n > 0)) || operations.some((op) => !OPERATIONS.includes(op))) {
    throw new TypeError(`bad arguments: ${args.join(' ')}`);
  }

  const factories: [string, () => Subject][] = [
    ['sessionkit', sessionkitSubject],
    ['connect-pg-simple', connectPgSimpleSubject],
    ['raw pg', rawPgSubject],
  ];
  const wanted = values.libraries?.split(',') ?? factories.map(([name]) => name);
  const subjects = factories.filter(([name]) => wanted.includes(name)).map(([, make]) => make());
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const subject of subjects) {
      await subject.teardown().catch((error: unknown) => console.error(`${subject.library}: teardown failed:`, error));
      await subject.pool.end().catch(() => {});
    }
  };
  // On Ctrl-C, drop the tables from a connection of its own (the pools are busy) and leave.
  const onSignal = () => {
    cleaned = true;
    const client = new pg.Client(connection);
    void client
      .connect()
      .then(() => client.query(subjects.map((s) => `DROP TABLE IF EXISTS ${s.table};`).join('')))
      .catch((error: unknown) => console.error('dropping the bench tables failed:', error))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);

  const results: Measurement[] = [];
  const allRounds: Measurement[] = [];
  try {
    const [{ version }] = (await subjects[0]!.pool.query<{ version: string }>(`SELECT current_setting('server_version') AS version`)).rows as [{ version: string }];
    // Keys of live sessions to read and write (round-robin), and per library a stock of keys to clear.
    const liveKeys = new Map<Subject, string[]>();
    const spareKeys = new Map<Subject, string[]>();
    for (const subject of subjects) {
      await subject.setup();
      liveKeys.set(subject, await fill(preload, 64, () => subject.generate()));
      spareKeys.set(subject, []);
      await subject.pool.query(`VACUUM ANALYZE ${subject.table}`);
    }
    const title =
      `PostgreSQL ${version}, pg Pool max ${POOL_MAX} per library, ${durationMs / 1000} s per cell ` +
      `(median of ${rounds} interleaved rounds of ${roundMs / 1000} s, each after ${warmupMs / 1000} s warm-up), ${preload} sessions preloaded`;
    console.log(`${title}\nvalue: ${sessionJson.length} bytes of JSON\n`);

    for (const inFlight of inFlights) {
      for (const operation of operations) {
        const byLibrary = new Map<Subject, Measurement[]>(subjects.map((subject) => [subject, []]));
        // Every clear must remove a real row (a missing one costs no WAL flush). Before each
        // round, untimed, every library's stock is topped up for 1.5x the fastest it went at
        // this concurrency and its table vacuumed, so that the burst of inserts settles before
        // any library is timed; a round that still runs out is redone with twice what it used.
        const stockUp = async (subject: Subject, need: number) => {
          const spare = spareKeys.get(subject)!;
          if (spare.length >= need) return;
          for (const key of await fill(need - spare.length, 64, () => subject.generate())) spare.push(key);
          await subject.pool.query(`VACUUM ANALYZE ${subject.table}`);
        };
        for (let round = 0; round < rounds; round++) {
          if (operation === 'clear') {
            for (const subject of subjects) {
              const seen = [...results, ...byLibrary.get(subject)!].filter((r) => r.library === subject.library && r.inFlight === inFlight && r.operation !== 'get');
              await stockUp(subject, Math.ceil(1.5 * Math.max(20_000, ...seen.map((r) => r.opsPerSecond)) * ((roundMs + warmupMs) / 1000)));
            }
          }
          // Rotate who goes first so that no library always follows the same one.
          for (const subject of [...subjects.slice(round % subjects.length), ...subjects.slice(0, round % subjects.length)]) {
            const live = liveKeys.get(subject)!;
            const spare = spareKeys.get(subject)!;
            let cursor = 0;
            const op: Record<Operation, () => Promise<unknown>> = {
              get: () => subject.get(live[cursor++ % live.length]!),
              set: () => subject.set(live[cursor++ % live.length]!),
              generate: async () => spare.push(await subject.generate()),
              clear: () => subject.clear(spare[cursor++ % spare.length]!),
            };
            for (let attempt = 1; ; attempt++) {
              const stock = spare.length;
              cursor = 0;
              const result = await measure({ library: subject.library, operation, inFlight, durationMs: roundMs, warmupMs, op: op[operation] });
              if (operation !== 'clear') {
                byLibrary.get(subject)!.push(result);
                break;
              }
              const used = cursor;
              spare.splice(0, used);
              if (used <= stock) {
                byLibrary.get(subject)!.push(result);
                break;
              }
              if (attempt === 3) throw new Error(`${subject.library}: clear x${inFlight} ran out of keys three times`);
              await stockUp(subject, 2 * used);
            }
          }
        }
        for (const [subject, measured] of byLibrary) {
          const sorted = [...measured].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
          const median = sorted[Math.floor(sorted.length / 2)]!;
          const result = { ...median, errors: measured.reduce((sum, r) => sum + r.errors, 0) };
          results.push(result);
          allRounds.push(...measured);
          const each = measured.map((r) => Math.round(r.opsPerSecond)).join(' / ');
          console.error(`${subject.library} ${operation} x${inFlight}: ${each} ops/s (median ${Math.round(result.opsPerSecond)}), ${result.errors} errors`);
        }
      }
    }

    console.log('');
    const table = printTable(title, results);
    const targets = TARGETS.filter((t) => inFlights.includes(t.inFlight) && operations.includes(t.operation)).map((t) => {
      const ratio = ratioOf(results, t.operation, t.inFlight, 'connect-pg-simple');
      return { ...t, measured: ratio, met: ratio !== undefined && ratio >= t.ratio };
    });
    const lines = ['### Targets: sessionkit ÷ connect-pg-simple', '', '| operation | in flight | target | measured | met |', '|---|---:|---:|---:|---|'];
    for (const t of targets) {
      lines.push(`| ${t.operation} | ${t.inFlight} | >= ${t.ratio}x | ${t.measured === undefined ? 'n/a' : `${t.measured.toFixed(2)}x`} | ${t.met ? 'yes' : 'NO'} |`);
    }
    console.log(`${lines.join('\n')}\n`);
    saveResults('postgres', { server: `PostgreSQL ${version}`, poolMax: POOL_MAX, durationMs, rounds, roundMs, warmupMs, preload, valueBytes: sessionJson.length, results, allRounds, targets, table });
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
  }
}

// A process that hands PostgresBackend a pg Pool or Client without an 'error' listener, as the plain
// pg set-up does, and then waits while the test terminates its connections: it must stay up.
// Usage: unguarded-connection.ts <database url> <table> <application name> <pool|client>
import pg from 'pg';
import { PostgresBackend } from '../../../../src/backends/postgres/index.js';

const [url, table, applicationName, kind] = process.argv.slice(2) as [string, string, string, 'pool' | 'client'];
const db = kind === 'pool' ? new pg.Pool({ connectionString: url, max: 2, application_name: applicationName }) : new pg.Client({ connectionString: url, application_name: applicationName });
if (db instanceof pg.Client) await db.connect();
const backend = new PostgresBackend(db, { table, timeoutMs: 2000, pruneIntervalSeconds: false });
await backend.ensureSchema();
const key = await backend.generate({ value: 'before' });
// The connection is idle now; the test terminates it.
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
// A pool opens a new connection and serves again; a single Client stays broken and says so.
const answer = await backend.get(key).then(
  (read) => (read.ok ? read.value : read.error),
  (error: { code?: string }) => `rejected ${error.code}`,
);
process.stdout.write(`alive: ${answer}\n`);
await backend.close();
if (db instanceof pg.Pool) await db.end();
process.exit(0);

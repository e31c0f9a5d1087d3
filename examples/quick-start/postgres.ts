import pg from 'pg';
import { PostgresBackend } from 'sessionkit/postgres';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgresql://127.0.0.1:5432/test', max: 10, keepAlive: true });
pool.on('error', (error) => console.error('PostgreSQL connection lost:', error.message)); // unheard, pg would end the process
const sessions = new PostgresBackend(pool, { table: process.env.SESSION_TABLE ?? 'session' });
await sessions.ensureSchema();

const key = await sessions.generate({ expiry: 3600 });
await sessions.set(key, JSON.stringify({ cart: [42] }), { expiry: 3600 }); // set restarts expiry
console.log(await sessions.get(key)); // { ok: true, value: '{"cart":[42]}', period: 3600 }

await sessions.clear(key);
await sessions.close(); // stops the pruner; the pool is yours
await pool.end();

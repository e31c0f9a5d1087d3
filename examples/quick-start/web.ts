import http from 'node:http';
import pg from 'pg';
import { withSession } from 'sessionkit/node';
import { PostgresBackend } from 'sessionkit/postgres';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, keepAlive: true });
pool.on('error', (error) => console.error('PostgreSQL connection lost:', error.message)); // unheard, pg would end the process
const sessions = new PostgresBackend(pool); // table "session"
await sessions.ensureSchema(); // creates the table on a fresh database (or run `npx sessionkit migrate` once)

const server = http.createServer(
  withSession<{ visits?: number }>(sessions, {}, async (_req, res, session) => {
    const { visits } = await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
    res.end(`visit number ${visits}\n`);
  }),
);
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.log(`http://localhost:${port}`));

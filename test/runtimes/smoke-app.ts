// The application the Bun and Deno smoke suites serve: the same routes on
// `sessionkit/fetch` (under /fetch) and on the Hono adapter (under /hono),
// over the backend named by SMOKE_BACKEND. Written for any runtime: only
// Web-standard APIs and what the backends need.
import { Hono } from 'hono';
import { withSession, type Session } from '../../src/adapters/fetch/index.js';
import { sessionMiddleware, type SessionEnv } from '../../src/adapters/hono/index.js';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { MemoryBackend, type Backend } from '../../src/index.js';

interface Data {
  user?: string;
  count?: number;
}

/** What the smoke test names: a backend and the driver behind it. */
export type SmokeBackend = 'memory' | 'postgres-js' | 'pg' | 'ioredis';

/** One route, the same under both adapters. */
async function route(path: string, query: URLSearchParams, session: Session<Data>): Promise<string> {
  switch (path) {
    case '/login':
      session.regenerate();
      session.set('user', query.get('user') ?? 'ann');
      return 'ok';
    case '/count':
      return String((await session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }))).count);
    case '/logout':
      session.destroy();
      return 'ok';
    default:
      return JSON.stringify(session.data);
  }
}

/** The backend and a way to release it. */
export async function openBackend(kind: SmokeBackend, env: Record<string, string | undefined>): Promise<{ backend: Backend; close(): Promise<void> }> {
  if (kind === 'memory') {
    const backend = new MemoryBackend();
    return { backend, close: () => backend.close() };
  }
  if (kind === 'postgres-js' || kind === 'pg') {
    const url = env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
    const table = env.SMOKE_TABLE ?? 'sk_smoke';
    if (kind === 'pg') {
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({ connectionString: url, max: 10 });
      const backend = new PostgresBackend(pool, { table });
      await backend.ensureSchema();
      return { backend, close: async () => (await backend.close(), await pool.end()) };
    }
    const { default: postgres } = await import('postgres');
    const sql = postgres(url, { max: 10, onnotice: () => undefined });
    const backend = new PostgresBackend(sql, { table });
    await backend.ensureSchema();
    return { backend, close: async () => (await backend.close(), await sql.end()) };
  }
  const { Redis } = await import('ioredis');
  const client = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const backend = new RedisBackend(client, { prefix: env.SMOKE_PREFIX ?? 'sk:smoke:' });
  return { backend, close: async () => (await backend.close(), client.disconnect()) };
}

/** The fetch handler serving both adapters. */
export function smokeHandler(backend: Backend): (request: Request) => Promise<Response> {
  const viaFetch = withSession<Data>(backend, {}, async (request, session) => {
    const url = new URL(request.url);
    return new Response(await route(url.pathname.slice('/fetch'.length), url.searchParams, session));
  });
  const hono = new Hono<SessionEnv<Data>>().basePath('/hono');
  hono.use(sessionMiddleware<Data>(backend));
  hono.get('/*', async (c) => {
    const url = new URL(c.req.url);
    return c.text(await route(url.pathname.slice('/hono'.length), url.searchParams, c.var.session));
  });
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname.startsWith('/fetch/')) return viaFetch(request).catch(() => new Response('Internal Server Error', { status: 500 }));
    if (pathname.startsWith('/hono/')) return hono.fetch(request);
    return new Response('not found', { status: 404 });
  };
}

// ocaml-session's counter example on Hono 4 (served by @hono/node-server).
// `tsx examples/counter/hono.ts` serves it on PORT (default 8080).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { sessionMiddleware, type SessionEnv } from 'sessionkit/hono';

interface Counter {
  count?: number;
}

/** A Hono app whose every GET increments the session's counter and answers the new count as text. */
export function counterApp(backend: Backend): Hono<SessionEnv<Counter>> {
  const app = new Hono<SessionEnv<Counter>>();
  app.use(sessionMiddleware<Counter>(backend));
  app.get('*', async (c) => {
    const { count } = await c.var.session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return c.text(String(count));
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve({ fetch: counterApp(new MemoryBackend()).fetch, port: Number(process.env.PORT ?? 8080), hostname: '127.0.0.1' }, ({ port }) =>
    console.log(`counter (Hono): http://localhost:${port}`),
  );
}

// The counter on Koa 3. `tsx examples/frameworks/koa/counter.ts` serves it on PORT (default 8080).
import Koa from 'koa';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { sessionMiddleware, type KoaSessionContext } from 'sessionkit/koa';

interface Counter {
  count?: number;
}

/** A Koa app whose every request increments the session's counter and answers the new count as text. */
export function counterApp(backend: Backend): Koa<Koa.DefaultState, KoaSessionContext<Counter>> {
  const app = new Koa<Koa.DefaultState, KoaSessionContext<Counter>>();
  app.use(sessionMiddleware<Counter>(backend));
  app.use(async (ctx) => {
    const { count } = await ctx.session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    ctx.body = String(count);
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = counterApp(new MemoryBackend()).listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const address = server.address();
    console.log(`counter (Koa): http://localhost:${typeof address === 'object' && address ? address.port : ''}`);
  });
}

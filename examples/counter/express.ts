// ocaml-session's counter example on Express 5. `tsx examples/counter/express.ts`
// serves it on PORT (default 8080).
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { getSession, sessionMiddleware } from 'sessionkit/express';

interface Counter {
  count?: number;
}

/** An Express app whose every GET increments the session's counter and answers the new count as text. */
export function counterApp(backend: Backend): express.Express {
  const app = express();
  app.use(sessionMiddleware<Counter>(backend));
  app.get('/{*path}', async (req, res) => {
    const { count } = await getSession<Counter>(req).update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    res.type('text/plain').send(String(count));
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = counterApp(new MemoryBackend()).listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`counter (Express): http://localhost:${port}`);
  });
}

// ocaml-session's counter example on plain node:http: each client's session counts
// its requests. `tsx examples/counter/node.ts` serves it on PORT (default 8080).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { withSession } from 'sessionkit/node';

interface Counter {
  count?: number;
}

/** A server whose every request increments its session's counter and answers the new count as text. */
export function counterServer(backend: Backend): http.Server {
  return http.createServer(
    withSession<Counter>(backend, {}, async (_req, res, session) => {
      // update() is an atomic read-modify-write: parallel requests never lose an increment.
      const { count } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(String(count));
    }),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = counterServer(new MemoryBackend());
  server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`counter (node:http): http://localhost:${port}`);
  });
}

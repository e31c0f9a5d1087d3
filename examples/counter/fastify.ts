// ocaml-session's counter example on Fastify 5. `tsx examples/counter/fastify.ts`
// serves it on PORT (default 8080).
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { getSession, sessionPlugin } from 'sessionkit/fastify';

interface Counter {
  count?: number;
}

/** A Fastify app whose every GET increments the session's counter and answers the new count as text. */
export async function counterApp(backend: Backend): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(sessionPlugin, { backend });
  app.get('/*', async (request, reply) => {
    const { count } = await getSession<Counter>(request).update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return reply.type('text/plain; charset=utf-8').send(String(count));
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await counterApp(new MemoryBackend());
  await app.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' });
  console.log(`counter (Fastify): http://localhost:${(app.server.address() as AddressInfo).port}`);
}

// Node 20 has no built-in fetch server: @hono/node-server serves any (Request) => Response.
// `tsx examples/frameworks/fetch/node.ts` serves the counter on PORT (default 8080).
import { serve } from '@hono/node-server';
import { MemoryBackend } from 'sessionkit';
import { counter } from './counter.js';

serve({ fetch: counter(new MemoryBackend()), port: Number(process.env.PORT ?? 8080), hostname: '127.0.0.1' }, ({ port }) =>
  console.log(`counter (fetch on Node): http://localhost:${port}`),
);

// `deno run --allow-net --allow-env --unstable-sloppy-imports examples/frameworks/fetch/deno.ts`
// serves the counter on PORT (default 8080).
import { MemoryBackend } from 'sessionkit';
import { counter } from './counter.js';

declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(options: { port: number; hostname: string; onListen(address: { port: number }): void }, handler: (request: Request) => Promise<Response>): unknown;
};

Deno.serve(
  { port: Number(Deno.env.get('PORT') ?? 8080), hostname: '127.0.0.1', onListen: ({ port }) => console.log(`counter (Deno): http://localhost:${port}`) },
  counter(new MemoryBackend()),
);

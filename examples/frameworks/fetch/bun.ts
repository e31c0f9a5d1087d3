// `bun examples/frameworks/fetch/bun.ts` serves the counter on PORT (default 8080).
import { MemoryBackend } from 'sessionkit';
import { counter } from './counter.js';

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): { port: number };
};

const server = Bun.serve({ port: Number(Bun.env.PORT ?? 8080), hostname: '127.0.0.1', fetch: counter(new MemoryBackend()) });
console.log(`counter (Bun): http://localhost:${server.port}`);

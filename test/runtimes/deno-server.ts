// Serves the smoke application with Deno.serve on a free port and prints its URL.
// Run: deno run -A --unstable-sloppy-imports test/runtimes/deno-server.ts (SMOKE_BACKEND=memory|postgres-js|pg|ioredis).
import { openBackend, smokeHandler, type SmokeBackend } from './smoke-app.js';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): { shutdown(): Promise<void> };
};

const env = Deno.env.toObject();
const { backend, close } = await openBackend((env.SMOKE_BACKEND ?? 'memory') as SmokeBackend, env);
const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`listening on http://localhost:${port}`) }, smokeHandler(backend));
Deno.addSignalListener('SIGTERM', async () => {
  await server.shutdown();
  await close();
  Deno.exit(0);
});

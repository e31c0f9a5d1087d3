// Serves the smoke application with Bun.serve on a free port and prints its URL.
// Run: bun test/runtimes/bun-server.ts (SMOKE_BACKEND=memory|postgres-js|pg|ioredis).
import { openBackend, smokeHandler, type SmokeBackend } from './smoke-app.js';

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): { port: number; stop(): Promise<void> };
};

const { backend, close } = await openBackend((Bun.env.SMOKE_BACKEND ?? 'memory') as SmokeBackend, Bun.env);
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: smokeHandler(backend) });
console.log(`listening on http://localhost:${server.port}`);
process.on('SIGTERM', async () => {
  await server.stop();
  await close();
  process.exit(0);
});

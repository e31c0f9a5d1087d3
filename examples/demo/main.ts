// `npm start`: the login + counter demo at http://localhost:3000 (PORT overrides;
// HOST, default 127.0.0.1, sets the interface). Sessions are kept in PGlite
// under .data/ (DATA_DIR overrides), a PostgreSQL server with DATABASE_URL, or
// Redis with REDIS_URL. Ctrl-C (SIGINT) or SIGTERM closes it cleanly.
import { serve } from '@hono/node-server';
import { demoApp } from './app.js';
import { openStorage, storageConfigFromEnv } from './backend.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
const hostname = process.env.HOST || '127.0.0.1';

const storage = await openStorage({ ...storageConfigFromEnv(process.env), log: (line) => console.log(line) });
const app = demoApp(storage.backend, { storage: storage.description });
app.onError((error, c) => {
  console.error(error);
  return c.text('Internal Server Error\n', 500);
});

const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
  const host = hostname === '127.0.0.1' || hostname === '::1' || hostname === 'localhost' ? 'localhost' : hostname;
  console.log(`sessionkit demo: http://${host}:${info.port} (sessions in ${storage.description}; Ctrl-C to stop)`);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    // A second Ctrl-C: stop waiting.
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal}: closing`);
  // Browsers keep idle connections open; drop them so close() finishes, and any left after 2 s.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  const force = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), 2000);
  await closed;
  clearTimeout(force);
  await storage.close();
  console.log('closed');
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

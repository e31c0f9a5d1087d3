// `npm start`: the login + counter demo at http://localhost:3000 (PORT overrides;
// HOST, default 127.0.0.1, sets the interface). Sessions are kept in PGlite
// under .data/ (DATA_DIR overrides), a PostgreSQL server with DATABASE_URL, or
// Redis with REDIS_URL. CSRF_SECRETS (comma-separated, newest first, each at least
// 32 characters) signs the form tokens; without it a random secret per start
// (forms served before a restart are refused after it: reload the page).
// STEP_UP_SECONDS (default 300) is how recent a login "log out everywhere" needs
// before it asks for the password again.
// Ctrl-C (SIGINT) or SIGTERM closes it cleanly.
import { createAdaptorServer } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { MIN_CSRF_SECRET_BYTES } from 'sessionkit/csrf';
import { demoApp, type DemoEnv } from './app.js';
import { openStorage, storageConfigFromEnv, type OpenStorage } from './backend.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
const hostname = process.env.HOST || '127.0.0.1';
const csrfSecrets = process.env.CSRF_SECRETS ? process.env.CSRF_SECRETS.split(',') : undefined;
const stepUpSeconds = process.env.STEP_UP_SECONDS === undefined ? undefined : Number(process.env.STEP_UP_SECONDS);
if (stepUpSeconds !== undefined && !(Number.isSafeInteger(stepUpSeconds) && stepUpSeconds >= 0)) {
  console.error(`STEP_UP_SECONDS must be a whole number of seconds, got ${JSON.stringify(process.env.STEP_UP_SECONDS)}`);
  process.exit(2);
}
const shortSecret = csrfSecrets?.find((secret) => Buffer.byteLength(secret) < MIN_CSRF_SECRET_BYTES);
if (shortSecret !== undefined) {
  console.error(`each of CSRF_SECRETS must be at least ${MIN_CSRF_SECRET_BYTES} bytes; one has ${Buffer.byteLength(shortSecret)}`);
  process.exit(2);
}

// The port is taken before the storage is opened: a second `npm start` fails on the
// busy port instead of opening the same PGlite directory as the first.
let app: Hono<DemoEnv> | undefined;
const server = createAdaptorServer({
  fetch: (request, env) => (app === undefined ? new Response('starting\n', { status: 503 }) : app.fetch(request, env)),
  hostname,
});
try {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => resolve());
  });
} catch (error) {
  console.error(`cannot listen on ${hostname}:${port}: ${(error as Error).message}`);
  process.exit(1);
}

let storage: OpenStorage;
try {
  storage = await openStorage({ ...storageConfigFromEnv(process.env), log: (line) => console.log(line) });
} catch (error) {
  console.error(`cannot open the session storage: ${(error as Error).message}`);
  server.close();
  process.exit(1);
}
const demo = demoApp(storage.backend, {
  storage: storage.description,
  // The devices list shows where each session was last used: the socket's peer, as @hono/node-server reports it (no proxy in front).
  session: { recordClientAddress: true, clientAddress: (c) => getConnInfo(c).remote.address },
  ...(csrfSecrets !== undefined ? { csrfSecrets } : {}),
  ...(stepUpSeconds !== undefined ? { stepUpSeconds } : {}),
});
demo.onError((error, c) => {
  console.error(error);
  return c.text('Internal Server Error\n', 500);
});
app = demo;
const { port: boundPort } = server.address() as AddressInfo;
const shownHost = ['127.0.0.1', '::1', 'localhost'].includes(hostname) ? 'localhost' : hostname;
console.log(`sessionkit demo: http://${shownHost}:${boundPort} (sessions in ${storage.description}; Ctrl-C to stop)`);

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

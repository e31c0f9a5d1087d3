// Test helper for the metrics examples: drives the example app (./app.ts)
// through real HTTP requests: two devices log in as one user, a counter, a
// slow upload that meets a concurrent write (a compare-and-set conflict), an
// anonymous session that logs in and out, and a "log out everywhere".
import http from 'node:http';
import { parseSetCookie } from 'cookie';
import type { Backend } from 'sessionkit';

interface Reply {
  status: number;
  body: string;
  /** The session key the reply's `sid` cookie sets, if it sets one. */
  key: string | undefined;
}

/** What the scenario saw: every session key handed out (to check that none leaks into metrics or spans). */
export interface ScenarioResult {
  keys: string[];
  /** The last key of the device whose session was ended by "log out everywhere" from another device. */
  loggedOutKey: string;
}

/** Resolves once `backend` served its next `get`: the request under way has loaded its session. */
function nextRead(backend: Backend): Promise<void> {
  const original = backend.get;
  return new Promise((resolve) => {
    backend.get = async (key) => {
      backend.get = original;
      try {
        return await original.call(backend, key);
      } finally {
        resolve();
      }
    };
  });
}

/** Runs the scenario against the app at `base`, whose sessions `backend` keeps. Throws on any unexpected answer. */
export async function runScenario(base: string, backend: Backend): Promise<ScenarioResult> {
  const keys = new Set<string>();
  const seen = (res: { headers: { getSetCookie(): string[] } }) => {
    for (const line of res.headers.getSetCookie()) {
      const value = parseSetCookie(line).value;
      if (value) keys.add(value);
    }
  };
  const send = async (method: string, path: string, key?: string, form?: Record<string, string>): Promise<Reply> => {
    const headers: Record<string, string> = key === undefined ? {} : { cookie: `sid=${key}` };
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(`${base}${path}`, { method, headers, body: form === undefined ? undefined : new URLSearchParams(form).toString() });
    seen(res);
    const line = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    return { status: res.status, body: await res.text(), key: line === undefined ? undefined : parseSetCookie(line).value };
  };
  const expect = (reply: Reply, body: string) => {
    if (reply.status !== 200 || reply.body !== body) throw new Error(`expected 200 ${JSON.stringify(body)}, got ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply;
  };

  // Two devices of alice.
  const laptop = expect(await send('POST', '/login', undefined, { user: 'alice' }), 'welcome, alice\n').key!;
  expect(await send('GET', '/counter', laptop), '1');
  expect(await send('GET', '/counter', laptop), '2');
  const phone = expect(await send('POST', '/login', undefined, { user: 'alice' }), 'welcome, alice\n').key!;

  // A slow upload: its session is loaded, then a counter increment lands before its body does.
  const note = new URLSearchParams({ text: 'remember the milk' }).toString();
  const loaded = nextRead(backend);
  const { hostname, port } = new URL(base);
  const upload = http.request({
    host: hostname,
    port,
    path: '/note',
    method: 'POST',
    headers: { cookie: `sid=${laptop}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(note) },
  });
  const uploaded = new Promise<Reply>((resolve, reject) => {
    upload.on('error', reject);
    upload.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, key: undefined }));
    });
  });
  upload.flushHeaders();
  await loaded;
  expect(await send('GET', '/counter', laptop), '3');
  upload.end(note);
  expect(await uploaded, 'saved\n');

  // An anonymous visitor logs in (a regeneration) and out.
  const visitor = (await send('GET', '/counter')).key!;
  const bob = expect(await send('POST', '/login', visitor, { user: 'bob' }), 'welcome, bob\n').key!;
  expect(await send('POST', '/logout', bob), 'logged out\n');

  // Alice logs out everywhere from the laptop: the phone's session is gone too.
  expect(await send('POST', '/logout-everywhere', laptop), '2 sessions ended\n');
  expect(await send('GET', '/counter', phone), '1');

  return { keys: [...keys], loggedOutKey: phone };
}

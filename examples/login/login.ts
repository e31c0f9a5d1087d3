// ocaml-session's README login example, on node:http with ocaml-session's own functions
// (`sessionkit/ocaml-session`: ofHeader, generate, clear, toCookieHeaders): every path
// answers 401 Unauthorized until the client authenticates, then 200 OK; and a
// logout. The session's value is the user name.
// `tsx examples/login/login.ts` serves it on PORT (default 8080).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type Backend } from 'sessionkit';
import { VARY_COOKIE, type HeaderPair } from 'sessionkit/http';
import { clear, clearHeaders, generate, ofHeader, toCookieHeaders } from 'sessionkit/ocaml-session';

const cookieName = '__session';
/** Longest login form body read, in bytes. */
const MAX_BODY_BYTES = 1024;

function send(res: http.ServerResponse, status: number, body: string, headers: HeaderPair[]): void {
  for (const [name, value] of headers) res.appendHeader(name, value);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

/** The form in the request body, or undefined when it is over {@link MAX_BODY_BYTES}. */
async function readForm(req: http.IncomingMessage): Promise<URLSearchParams | undefined> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY_BYTES) return undefined;
  }
  return new URLSearchParams(body);
}

/**
 * `POST /authenticate` with the form field `user` starts a session for that
 * user (under a new key, even if the client had one); `POST /logout` ends it;
 * every other request answers 200 with the user's name when the cookie names a
 * live session, and 401 otherwise.
 */
export function loginServer(backend: Backend): http.Server {
  return http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const found = await ofHeader(backend, cookieName, req.headers.cookie);
      const session = found.ok ? found.session : undefined;

      if (req.method === 'POST' && path === '/authenticate') {
        const form = await readForm(req);
        if (form === undefined) return send(res, 413, 'login form too large\n', [VARY_COOKIE]);
        const user = form.get('user')?.trim() ?? '';
        if (user === '') return send(res, 400, 'user is required\n', [VARY_COOKIE]);
        // A new key on every login: a key planted before login (session fixation) never becomes authenticated.
        if (session !== undefined) await clear(backend, session);
        const fresh = await generate(backend, user, { expiry: 3600 });
        return send(res, 200, `welcome, ${user}\n`, toCookieHeaders(cookieName, fresh));
      }
      // A cookie that names no live session is dropped from the browser.
      if (session === undefined) return send(res, 401, 'Unauthorized\n', found.ok ? [VARY_COOKIE] : clearHeaders(cookieName));
      if (req.method === 'POST' && path === '/logout') {
        await clear(backend, session);
        return send(res, 200, 'logged out\n', toCookieHeaders(cookieName, session));
      }
      return send(res, 200, `hello, ${session.value}\n`, toCookieHeaders(cookieName, session));
    } catch (error) {
      console.error(error);
      if (!res.headersSent) send(res, 500, 'Internal Server Error\n', []);
      else res.destroy();
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = loginServer(new MemoryBackend());
  server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`login example: http://localhost:${port}`);
  });
}

// The demo's routes on Hono, with a typed session. Routes other tools script against:
//   GET  /counter  increments atomically, answers the new count as text/plain (first visit: 1)
//   POST /login    user=<name> (form or JSON): logs in under a new session key
//   GET  /whoami   401 until login, then 200 with the user name
//   POST /logout   destroys the session
//   POST /logout-everywhere  ends every session of the logged-in user (all devices)
//   GET  /         an HTML page with the counter, the user, the expiry and a form per action
import { Hono, type Context } from 'hono';
import { supportsOwners, type Backend } from 'sessionkit';
import { sessionMiddleware, type SessionEnv, type SessionOptions } from 'sessionkit/hono';
import { renderPage } from './page.js';

/** What the demo keeps in a session. */
export interface DemoData {
  user?: string;
  count?: number;
}

/** Options of {@link demoApp}. */
export interface DemoAppOptions {
  /** Shown on the home page: where sessions are kept. */
  storage: string;
  /** Passed to the session middleware (cookie name, idle timeout…). */
  session?: SessionOptions;
}

/** Longest user name accepted, in characters. */
export const MAX_USER_CHARS = 64;

type DemoContext = Context<SessionEnv<DemoData>>;

/** Browsers submitting the page's forms get a redirect back to the page; scripts get plain text. */
const wantsHtml = (c: DemoContext) => (c.req.header('accept') ?? '').includes('text/html');

/** The `user` field of a form or JSON body, trimmed, or undefined when missing or unusable. */
async function readUser(c: DemoContext): Promise<string | undefined> {
  const type = c.req.header('content-type') ?? '';
  let user: unknown;
  try {
    user = type.includes('application/json') ? ((await c.req.json()) as { user?: unknown } | null)?.user : (await c.req.parseBody()).user;
  } catch {
    return undefined;
  }
  if (typeof user !== 'string') return undefined;
  const trimmed = user.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_USER_CHARS ? trimmed : undefined;
}

/** The demo application on `backend` (any sessionkit backend). */
export function demoApp(backend: Backend, options: DemoAppOptions): Hono<SessionEnv<DemoData>> {
  const app = new Hono<SessionEnv<DemoData>>();
  // Every sessionkit backend keeps sessions by owner; a custom one without it still runs the demo, minus "log out everywhere".
  const owners = supportsOwners(backend);
  app.use(sessionMiddleware<DemoData>(backend, { owners, ...options.session }));

  const increment = (c: DemoContext) => c.var.session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));

  app.get('/', (c) => {
    const session = c.var.session;
    return c.html(
      renderPage({
        count: session.get('count') ?? 0,
        user: session.get('user'),
        expiresInSeconds: session.expiresInSeconds,
        storage: options.storage,
        canLogOutEverywhere: owners,
      }),
    );
  });

  app.get('/counter', async (c) => c.text(String((await increment(c)).count)));
  app.post('/counter', async (c) => {
    const { count } = await increment(c);
    return wantsHtml(c) ? c.redirect('/', 303) : c.text(String(count));
  });

  app.post('/login', async (c) => {
    const user = await readUser(c);
    if (user === undefined) return c.text(`user is required (1 to ${MAX_USER_CHARS} characters)\n`, 400);
    // A new key on every login (session fixation), filed under the user; the data, the counter included, moves with it.
    c.var.session.regenerate(owners ? { owner: user } : undefined);
    c.var.session.set('user', user);
    return wantsHtml(c) ? c.redirect('/', 303) : c.text(user);
  });

  app.get('/whoami', (c) => {
    const user = c.var.session.get('user');
    return user === undefined ? c.text('not logged in\n', 401) : c.text(user);
  });

  app.post('/logout', (c) => {
    c.var.session.destroy();
    return wantsHtml(c) ? c.redirect('/', 303) : c.text('logged out\n');
  });

  app.post('/logout-everywhere', async (c) => {
    if (!owners) return c.text('this storage keeps no sessions by user\n', 501);
    if (c.var.session.get('user') === undefined) return c.text('not logged in\n', 401);
    const ended = await c.var.session.logoutEverywhere();
    return wantsHtml(c) ? c.redirect('/', 303) : c.text(`${ended} sessions ended\n`);
  });

  return app;
}

// The demo's routes on Hono, with a typed session. Routes other tools script against:
//   GET  /counter     the session's counter as text/plain (0 without one); changes nothing
//   POST /counter     increments atomically, answers the new count
//   GET  /csrf-token  this session's CSRF token as text/plain (creates the session), for scripts
//   POST /login       user=<name> (form or JSON): logs in under a new session key
//   GET  /whoami      401 until login, then 200 with the user name
//   POST /logout      destroys the session
//   POST /logout-everywhere  ends every session of the logged-in user (all devices)
//   POST /sessions/end       session=<keyDigest>: ends another of the user's sessions (one device)
//   GET  /            an HTML page with the counter, the user, the user's devices and a form per action
// State changes only on POST, and every POST needs the session's CSRF token (field `csrf`
// or header X-CSRF-Token), on top of the session middleware's cross-origin check.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { supportsOwners, type Backend } from 'sessionkit';
import { csrfToken, verifyCsrfToken } from 'sessionkit/csrf';
import { sessionMiddleware, type HonoSessionOptions, type SessionEnv } from 'sessionkit/hono';
import { MalformedBodyError, MAX_BODY_BYTES, parseFields, userName, type Fields } from './fields.js';
import { renderPage, type Device } from './page.js';

/** What the demo keeps in a session. */
export interface DemoData {
  user?: string;
  count?: number;
}

/** Options of {@link demoApp}. */
export interface DemoAppOptions {
  /** Shown on the home page: where sessions are kept. */
  storage: string;
  /** Passed to the session middleware (cookie name, idle timeout, csrf…). */
  session?: HonoSessionOptions;
}

/** Longest user name accepted, in characters. */
export const MAX_USER_CHARS = 64;

/** The demo's Hono environment: the typed session and the POST body's fields. */
export type DemoEnv = SessionEnv<DemoData> & { Variables: { fields: Fields } };
type DemoContext = Context<DemoEnv>;

/** Browsers submitting the page's forms get a redirect back to the page; scripts get plain text. */
const wantsHtml = (c: DemoContext) => (c.req.header('accept') ?? '').includes('text/html');
const done = (c: DemoContext, text: string) => (wantsHtml(c) ? c.redirect('/', 303) : c.text(text));

/** The demo application on `backend` (any sessionkit backend). */
export function demoApp(backend: Backend, options: DemoAppOptions): Hono<DemoEnv> {
  const app = new Hono<DemoEnv>();
  // Every sessionkit backend keeps sessions by owner; a custom one without it still runs the demo, minus the devices.
  const owners = supportsOwners(backend);
  const removal = supportsOwners(backend) ? backend : undefined;

  // Bodies are counted as they stream in: a larger one is answered 413 without being held in memory.
  app.use(bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text(`request body over ${MAX_BODY_BYTES} bytes\n`, 413) }));
  app.use(sessionMiddleware<DemoData>(backend, { owners, ...options.session }));
  app.post('*', async (c, next) => {
    let fields: Fields;
    try {
      fields = parseFields(c.req.header('content-type') ?? '', await c.req.text());
    } catch (error) {
      if (error instanceof MalformedBodyError) return c.text(`${error.message}\n`, 400);
      throw error;
    }
    if (!verifyCsrfToken(c.var.session, c.req.header('x-csrf-token') ?? fields.csrf)) {
      return c.text('missing or wrong CSRF token: reload the page (scripts: GET /csrf-token, then send it as X-CSRF-Token)\n', 403);
    }
    c.set('fields', fields);
    await next();
  });

  app.get('/', async (c) => {
    const session = c.var.session;
    const user = session.get('user');
    const devices: Device[] | undefined =
      owners && user !== undefined
        ? (await session.listOwnSessions()).map((s) => ({ keyDigest: s.keyDigest, createdAt: s.createdAt, expiresInSeconds: s.expiresInSeconds, current: s.current }))
        : undefined;
    return c.html(
      renderPage({
        count: session.get('count') ?? 0,
        user,
        expiresInSeconds: session.expiresInSeconds,
        storage: options.storage,
        canLogOutEverywhere: owners,
        canEndDevices: removal !== undefined,
        devices,
        csrfToken: csrfToken(session),
      }),
    );
  });

  app.get('/csrf-token', (c) => c.text(csrfToken(c.var.session)));
  app.get('/counter', (c) => c.text(String(c.var.session.get('count') ?? 0)));
  app.post('/counter', async (c) => {
    const { count } = await c.var.session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return done(c, String(count));
  });

  app.post('/login', (c) => {
    const user = userName(c.var.fields.user, MAX_USER_CHARS);
    if (user === undefined) return c.text(`user is required (1 to ${MAX_USER_CHARS} characters of text, no control characters)\n`, 400);
    // A new key on every login (session fixation), filed under the user; the data, the counter and the CSRF token included, moves with it.
    c.var.session.regenerate(owners ? { owner: user } : undefined);
    c.var.session.set('user', user);
    return done(c, user);
  });

  app.get('/whoami', (c) => {
    const user = c.var.session.get('user');
    return user === undefined ? c.text('not logged in\n', 401) : c.text(user);
  });

  app.post('/logout', (c) => {
    c.var.session.destroy();
    return done(c, 'logged out\n');
  });

  app.post('/logout-everywhere', async (c) => {
    if (!owners) return c.text('this storage keeps no sessions by user\n', 501);
    if (c.var.session.get('user') === undefined) return c.text('not logged in\n', 401);
    const ended = await c.var.session.logoutEverywhere();
    return done(c, `${ended} sessions ended\n`);
  });

  app.post('/sessions/end', async (c) => {
    const owner = c.var.session.owner;
    if (removal === undefined) return c.text('this storage cannot end one session by its digest\n', 501);
    if (owner === undefined) return c.text('not logged in\n', 401);
    const digest = c.var.fields.session;
    if (typeof digest !== 'string') return c.text('session=<keyDigest> is required\n', 400);
    const listed = (await c.var.session.listOwnSessions()).find((s) => s.keyDigest === digest);
    if (listed?.current === true) return c.text('this is the current session: log out instead\n', 400);
    if (listed === undefined || !(await removal.clearOwnedSession(owner, digest))) return c.text('no such session of yours\n', 404);
    return done(c, 'session ended\n');
  });

  return app;
}

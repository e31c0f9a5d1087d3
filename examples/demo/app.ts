// The demo's routes on Hono, with a typed session. Routes other tools script against:
//   GET  /counter     the session's counter as text/plain (0 without one); changes nothing
//   POST /counter     increments atomically, answers the new count
//   GET  /csrf-token  the form token as text/plain (sets the small nonce cookie it is bound to; stores nothing), for scripts
//   POST /login       user=<name> (form or JSON): logs in under a new session key
//   GET  /whoami      401 until login, then 200 with the user name
//   POST /logout      destroys the session
//   POST /logout-everywhere  ends every session of the logged-in user (all devices); a login older than
//                            stepUpSeconds (5 minutes) first needs password=<the demo password> (step-up)
//   POST /sessions/end       session=<keyDigest>: ends another of the user's sessions (one device)
//   GET  /            an HTML page with the counter, the user, the user's devices (last seen, browser,
//                     address) and a form per action; after an action, its flash message, shown once
// State changes only on POST, and every POST needs the form token (field `csrf` or header
// X-CSRF-Token), on top of the session middleware's cross-origin check. The form token is a
// signed double-submit token bound to its own nonce cookie, so a visitor who only reads pages
// stores nothing: a session is stored on the first POST that changes something (login, counter).
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { supportsOwners, type Backend } from 'sessionkit';
import { signedCsrfTokens, type SignedCsrfTokens } from 'sessionkit/csrf';
import { sessionMiddleware, type HonoSessionOptions, type SessionEnv } from 'sessionkit/hono';
import { MalformedBodyError, MAX_BODY_BYTES, parseFields, userName, type Fields } from './fields.js';
import { renderPage, renderStepUp, type Device } from './page.js';

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
  /**
   * Secrets that sign the form tokens, newest first (see `signedCsrfTokens`).
   * Default: one random secret per app, so the forms served before a restart
   * are refused after it (reload the page).
   */
  csrfSecrets?: readonly (string | Uint8Array)[];
  /** How recent a login "log out everywhere" needs before it asks for the password again, in seconds; default 300. Tests pass 0. */
  stepUpSeconds?: number;
  /** The password the step-up asks for (the demo has no accounts: one password for everyone); default `demo`. */
  password?: string;
}

/** Default of {@link DemoAppOptions.stepUpSeconds}: five minutes. */
export const DEFAULT_STEP_UP_SECONDS = 300;

/** Longest user name accepted, in characters. */
export const MAX_USER_CHARS = 64;

/** The demo's Hono environment: the typed session and the POST body's fields. */
export type DemoEnv = SessionEnv<DemoData> & { Variables: { fields: Fields } };
type DemoContext = Context<DemoEnv>;

/** Browsers submitting the page's forms get a redirect back to the page; scripts get plain text. */
const wantsHtml = (c: DemoContext) => (c.req.header('accept') ?? '').includes('text/html');
/** Browsers get a redirect to the page, which shows `flash` once (kept in the session); scripts get `text` and no flash. */
const done = (c: DemoContext, text: string, flash?: string) => {
  if (!wantsHtml(c)) return c.text(text);
  if (flash !== undefined) c.var.session.flash('info', flash);
  return c.redirect('/', 303);
};

/** The form token for this request; adds the nonce cookie to the response when the request had none. Reads no session. */
function formToken(c: DemoContext, formTokens: SignedCsrfTokens): string {
  const { token, setCookie } = formTokens.issue(c.req.header('cookie'));
  if (setCookie !== undefined) c.header('Set-Cookie', setCookie, { append: true });
  return token;
}

/** The demo application on `backend` (any sessionkit backend). */
export function demoApp(backend: Backend, options: DemoAppOptions): Hono<DemoEnv> {
  const app = new Hono<DemoEnv>();
  // Every sessionkit backend keeps sessions by owner; a custom one without it still runs the demo, minus the devices.
  const owners = supportsOwners(backend);
  const removal = supportsOwners(backend) ? backend : undefined;

  // Bodies are counted as they stream in: a larger one is answered 413 without being held in memory.
  app.use(bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text(`request body over ${MAX_BODY_BYTES} bytes\n`, 413) }));
  // The devices list shows each session's browser: recorded with the writes a session makes anyway (see docs/http.md).
  app.use(sessionMiddleware<DemoData>(backend, { owners, recordUserAgent: true, ...options.session }));
  const stepUpSeconds = options.stepUpSeconds ?? DEFAULT_STEP_UP_SECONDS;
  const password = options.password ?? 'demo';
  const formTokens = signedCsrfTokens({ secrets: options.csrfSecrets ?? [randomBytes(32)] });
  app.post('*', async (c, next) => {
    let fields: Fields;
    try {
      fields = parseFields(c.req.header('content-type') ?? '', await c.req.text());
    } catch (error) {
      if (error instanceof MalformedBodyError) return c.text(`${error.message}\n`, 400);
      throw error;
    }
    if (!formTokens.verify(c.req.header('cookie'), c.req.header('x-csrf-token') ?? fields.csrf)) {
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
        ? (await session.listOwnSessions()).map(({ keyDigest, createdAt, expiresInSeconds, lastSeenAt, userAgent, clientAddress, current }) => ({ keyDigest, createdAt, expiresInSeconds, lastSeenAt, userAgent, clientAddress, current }))
        : undefined;
    return c.html(
      renderPage({
        flash: session.takeFlash('info').map(String),
        count: session.get('count') ?? 0,
        user,
        expiresInSeconds: session.expiresInSeconds,
        storage: options.storage,
        canLogOutEverywhere: owners,
        canEndDevices: removal !== undefined,
        devices,
        csrfToken: formToken(c, formTokens),
      }),
    );
  });

  app.get('/csrf-token', (c) => c.text(formToken(c, formTokens)));
  app.get('/counter', (c) => c.text(String(c.var.session.get('count') ?? 0)));
  app.post('/counter', async (c) => {
    const { count } = await c.var.session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return done(c, String(count));
  });

  app.post('/login', (c) => {
    const user = userName(c.var.fields.user, MAX_USER_CHARS);
    if (user === undefined) return c.text(`user is required (1 to ${MAX_USER_CHARS} characters of text, no control characters)\n`, 400);
    // A new key on every login (session fixation), filed under the user; the data, the counter included, moves with it.
    // The form token is bound to its nonce cookie, not to the key, so it stays valid.
    c.var.session.regenerate(owners ? { owner: user } : undefined);
    c.var.session.set('user', user);
    return done(c, user, `Logged in as ${user}.`);
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
    // Step-up: ending every session is sensitive, so a login older than stepUpSeconds must show the password again.
    if (!c.var.session.isFresh(stepUpSeconds)) {
      const given = c.var.fields.password;
      if (given !== password) {
        const wrong = given !== undefined;
        if (!wantsHtml(c)) return c.text(`your login is older than ${stepUpSeconds} s: confirm with password=<the demo password>\n`, wrong ? 403 : 401);
        return c.html(renderStepUp({ csrfToken: formToken(c, formTokens), stepUpSeconds, wrong }), wrong ? 403 : 401);
      }
    }
    const ended = await c.var.session.logoutEverywhere();
    // The session is gone: the message rides in a new one, which the page empties when it shows it.
    return done(c, `${ended} sessions ended\n`, `Signed out everywhere: ${ended} session${ended === 1 ? '' : 's'} ended, this one included.`);
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
    return done(c, 'session ended\n', `Signed out of 1 other device${listed.userAgent === undefined ? '' : ` (${listed.userAgent})`}.`);
  });

  return app;
}

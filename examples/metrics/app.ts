// The small application both metrics examples instrument: Express 5, typed
// sessions by owner, and one `onEvent` listener for the HTTP layer (the
// backend takes the same listener in its own options).
//   POST /login              user=<id>: logs in as that owner, under a new key
//   GET  /counter            increments atomically, answers the count
//   POST /note               text=<...>: saves a note; the body is read after the session
//                            was loaded, so a slow upload can meet a concurrent write (a conflict)
//   POST /logout             ends this session
//   POST /logout-everywhere  ends every session of the logged-in user
import express from 'express';
import type { Backend, SessionEventListener } from 'sessionkit';
import { getSession, sessionMiddleware } from 'sessionkit/express';

/** What the example keeps in a session. */
export interface ExampleData {
  user?: string;
  count?: number;
  note?: string;
}

/** Longest user id and note accepted, in characters. */
const MAX_FIELD_CHARS = 256;

/** The form field `name`, trimmed, or undefined when missing, empty or too long. */
function formField(req: express.Request, name: string): string | undefined {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_FIELD_CHARS ? trimmed : undefined;
}

/**
 * The example's routes behind sessionkit's Express middleware, on `backend`
 * (which must keep sessions by owner: memory, or PostgreSQL after
 * `ensureSchema()`); `onEvent` receives the HTTP layer's events.
 */
export function sessionRoutes(backend: Backend, onEvent: SessionEventListener): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  router.use(sessionMiddleware<ExampleData>(backend, { owners: true, onEvent }));

  router.post('/login', form, (req, res) => {
    const user = formField(req, 'user');
    if (user === undefined) {
      res.status(400).type('text/plain').send('user is required\n');
      return;
    }
    const session = getSession<ExampleData>(req);
    session.regenerate({ owner: user });
    session.set('user', user);
    res.type('text/plain').send(`welcome, ${user}\n`);
  });

  router.get('/counter', async (req, res) => {
    const { count } = await getSession<ExampleData>(req).update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    res.type('text/plain').send(String(count));
  });

  router.post('/note', form, (req, res) => {
    const text = formField(req, 'text');
    if (text === undefined) {
      res.status(400).type('text/plain').send('text is required\n');
      return;
    }
    getSession<ExampleData>(req).set('note', text);
    res.type('text/plain').send('saved\n');
  });

  router.post('/logout', (req, res) => {
    getSession<ExampleData>(req).destroy();
    res.type('text/plain').send('logged out\n');
  });

  router.post('/logout-everywhere', async (req, res) => {
    const removed = await getSession<ExampleData>(req).logoutEverywhere();
    res.type('text/plain').send(`${removed} sessions ended\n`);
  });

  return router;
}

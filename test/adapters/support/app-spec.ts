import type { Backend } from '../../../src/index.js';
import type { Session, SessionOptions } from '../../../src/http/index.js';

/** The session data of the test application. */
export interface TestData {
  user?: string;
  count?: number;
  blob?: string;
  [field: `f${number}`]: string | undefined;
}

/** What a route answers, whatever the framework. */
export interface RouteResult {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/** A route of the test application, written once and mounted on every framework. */
export type Route = (session: Session<TestData>, query: URLSearchParams) => RouteResult | Promise<RouteResult>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const setFromQuery = (session: Session<TestData>, query: URLSearchParams) => {
  for (const [name, value] of query) session.set(name as `f${number}`, value);
};

/** Over the default maxValueBytes (1 MiB). */
export const OVERSIZE_CHARS = 1_100_000;

/** Resolves when the `/late` route's timer ran (set `done` before the request). */
export const lateWrites: { done?: () => void } = {};

/** The test application's routes: GET <path>?<query>. */
export const routes: Record<string, Route> = {
  '/read': (session) => ({ body: JSON.stringify(session.data) }),
  '/set': (session, query) => {
    setFromQuery(session, query);
    return { body: 'ok' };
  },
  // Waits before writing, so concurrent requests all load the same stored value first.
  '/set-slow': async (session, query) => {
    await sleep(30);
    setFromQuery(session, query);
    return { body: 'ok' };
  },
  '/count': async (session) => {
    const data = await session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
    return { body: String(data.count) };
  },
  '/login': (session, query) => {
    session.regenerate();
    session.set('user', query.get('user') ?? 'ann');
    return { body: 'ok' };
  },
  '/logout': (session) => {
    session.destroy();
    return { body: 'ok' };
  },
  '/big': (session) => {
    session.set('blob', 'x'.repeat(OVERSIZE_CHARS));
    return { body: 'ok' };
  },
  '/cached': (session) => {
    session.set('user', 'ann');
    return { body: 'ok', headers: { 'Cache-Control': 'private, max-age=60', Vary: 'Accept-Encoding' } };
  },
  // A write from a timer after the response: dropped, never thrown into the timer.
  '/late': (session) => {
    session.set('f1', 'in time');
    setTimeout(() => {
      session.set('f2', 'late');
      lateWrites.done?.();
    }, 10);
    return { body: 'ok' };
  },
  '/throw': () => {
    throw new Error('handler failed');
  },
  '/status': (session) => ({ status: 201, body: session.isNew ? 'new' : 'known' }),
  // Sessions by owner (the application runs with `owners: true`).
  '/login-as': (session, query) => {
    const owner = query.get('owner') ?? 'u1';
    session.regenerate({ owner });
    session.set('user', owner);
    return { body: 'ok' };
  },
  '/owner': (session) => ({ body: session.owner ?? '' }),
  '/own-sessions': async (session) => ({ body: JSON.stringify(await session.listOwnSessions()) }),
  '/logout-everywhere': async (session, query) => ({ body: String(await session.logoutEverywhere({ keepCurrent: query.get('keep') === '1' })) }),
};

/** Runs the route for `url` (path and query), or 404. */
export async function dispatch(session: Session<TestData>, url: string): Promise<RouteResult> {
  const parsed = new URL(url, 'http://localhost');
  const route = routes[parsed.pathname];
  if (route === undefined) return { status: 404, body: 'not found' };
  return route(session, parsed.searchParams);
}

/** A response as the tests see it, from any framework's test client. */
export interface TestReply {
  status: number;
  body: string;
  /** Every Set-Cookie line. */
  setCookies: string[];
  header(name: string): string | undefined;
}

/** Sends requests to one application. */
export interface TestClient {
  get(url: string, headers?: Record<string, string>): Promise<TestReply>;
  close(): Promise<void>;
}

/** Builds the test application on one framework with sessionkit's adapter. */
export type AppFactory = (backend: Backend, options: SessionOptions) => Promise<TestClient>;

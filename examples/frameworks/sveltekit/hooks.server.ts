// src/hooks.server.ts of a SvelteKit app: the session on event.locals, saved once the page or
// endpoint has answered. Written against the part of SvelteKit's `Handle` it uses (structural types
// below), because @sveltejs/kit is not installed in this repository (its peer range conflicts with
// this repository's vite): the shape follows SvelteKit 2's `Handle`, unchecked against its types here. Declare `interface Locals { session: Session<AppSession> }` in src/app.d.ts.
import type { Backend } from 'sessionkit';
import { loadSession, SessionEngine, withSessionHeaders, type FetchSessionOptions, type Session } from 'sessionkit/fetch';

/** What the hook reads of SvelteKit's `RequestEvent`. */
export interface SessionRequestEvent {
  request: Request;
  locals: object;
}

/** The `handle` hook's input, as SvelteKit passes it. */
export interface HandleInput<Event extends SessionRequestEvent> {
  event: Event;
  resolve(event: Event): Response | Promise<Response>;
}

/**
 * A `handle` hook: loads the session into `event.locals.session`, lets
 * SvelteKit render (load functions and form actions run inside `resolve`),
 * then saves the session and puts its cookie on the response. A store failure
 * is thrown to SvelteKit's `handleError` (a 500 without `Set-Cookie`).
 */
export function sessionHandle<Data extends object>(backend: Backend, options: FetchSessionOptions = {}) {
  const engine = new SessionEngine<Data>(backend, options);
  return async <Event extends SessionRequestEvent>({ event, resolve }: HandleInput<Event>): Promise<Response> => {
    const context = await loadSession(engine, event.request);
    (event.locals as { session: Session<Data> }).session = context.session;
    const response = await resolve(event);
    return withSessionHeaders(response, await context.commit());
  };
}

export interface AppSession {
  user?: string;
  count?: number;
}

// export const handle = sessionHandle<AppSession>(new PostgresBackend(pool));

/**
 * `sessionkit/koa`: typed sessions for Koa 3.
 *
 * ```ts
 * const app = new Koa<Koa.DefaultState, KoaSessionContext<{ count: number }>>();
 * app.use(sessionMiddleware(backend));
 * app.use(async (ctx) => {
 *   const { count } = await ctx.session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   ctx.body = String(count);
 * });
 * ```
 */
import type { Middleware } from 'koa';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import { applySessionHeaders } from '../../http/headers.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';

/** Options of {@link sessionMiddleware}: the typed-session options and `csrf`, nothing Koa-specific. */
export interface KoaSessionOptions extends SessionOptions, CsrfProtectionOption {}

/** The context the middleware provides: `ctx.session`, typed. Pass it to `new Koa<Koa.DefaultState, KoaSessionContext<Data>>()`. */
export interface KoaSessionContext<Data extends object = Record<string, unknown>> {
  session: Session<Data>;
}

/** Thrown (to Koa's error handling) when the response head went out before a changed session could be saved. */
export class SessionHeadSentError extends Error {
  override readonly name = 'SessionHeadSentError';
}

const sessions = new WeakMap<object, Session<object>>();

/**
 * Koa middleware that sets `ctx.session` (also read with {@link getSession}).
 * The session is read before `next()` (one store read when the request has a
 * session cookie) and saved after it: Koa writes the response once the whole
 * middleware chain has returned, so the cookie goes out with the head.
 *
 * A store failure, while reading or saving, is thrown to Koa's error handling
 * (a 500 by default, `app.on('error')` sees it); Koa drops the headers set so
 * far, so that response carries no `Set-Cookie`. When the store is down or
 * timed out (also in a handler's `update()`), the error carries `status: 503`
 * and `headers` with `Retry-After`, which Koa answers with. An error thrown downstream
 * passes through unsaved: the error response cannot carry a new cookie (writes
 * already made with `update(fn)` stay). A handler that writes to `ctx.res`
 * itself (`ctx.respond = false`) sends its head first: a session it changed is
 * then not saved and a {@link SessionHeadSentError} is thrown.
 *
 * Throws a `TypeError` at once for a backend without `compareAndSet` (or,
 * with `owners: true`, without sessions by owner) or an invalid option.
 */
export function sessionMiddleware<Data extends object = Record<string, unknown>>(
  backend: Backend,
  options: KoaSessionOptions = {},
): Middleware<unknown, KoaSessionContext<Data>> {
  const engine = new SessionEngine<Data>(backend, options);
  const guard = crossOriginGuard(options.csrf, engine.carriesSessionHeader);
  return async function sessionkit(ctx, next) {
    // Mounted twice (app and a sub-app): the first one owns the session.
    if (sessions.has(ctx)) return next();
    const verdict = guard(ctx.method, ctx.headers);
    if (!verdict.allowed) {
      ctx.status = verdict.status;
      ctx.type = CSRF_REFUSAL_CONTENT_TYPE;
      ctx.body = verdict.body;
      return;
    }
    const context = await engine.load(ctx.request.headers.cookie, ctx.req);
    sessions.set(ctx, context.session as Session<object>);
    ctx.session = context.session;
    await next();
    if (ctx.headerSent) {
      if (context.session.status === 'unmodified') return;
      throw new SessionHeadSentError('the response head was sent before the changed session could be saved; do not write to ctx.res directly');
    }
    const pairs = await context.commit();
    applySessionHeaders(
      {
        get: (name) => ctx.response.get(name),
        set: (name, value) => ctx.set(name, value),
        append: (name, value) => ctx.append(name, value),
      },
      pairs,
    );
  };
}

/**
 * The typed session of `ctx`. Throws when {@link sessionMiddleware} did not
 * run for this request (it is not mounted, or mounted after this middleware).
 */
export function getSession<Data extends object = Record<string, unknown>>(ctx: object): Session<Data> {
  const session = sessions.get(ctx);
  if (session === undefined) throw new Error('no session on this request: app.use(sessionMiddleware(backend)) before the routes');
  return session as Session<Data>;
}

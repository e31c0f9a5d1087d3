/**
 * `sessionkit/hono`: typed sessions for Hono 4, as middleware with a typed
 * context variable.
 *
 * ```ts
 * const app = new Hono<SessionEnv<{ count: number }>>();
 * app.use(sessionMiddleware(backend));
 * app.get('/counter', async (c) => {
 *   const { count } = await c.var.session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   return c.text(String(count));
 * });
 * ```
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import { applySessionHeaders } from '../../http/headers.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';
import { isStoreOutage, outageResponse, sessionErrorResponse } from '../../core/errors.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';

/** Options of {@link sessionMiddleware}: the typed-session options and `csrf`, nothing Hono-specific. */
export type HonoSessionOptions = SessionOptions &
  CsrfProtectionOption & {
    /**
     * The client's address for `recordClientAddress`, which needs it: Hono
     * has no portable one, so the application says where it comes from, with
     * its runtime's connection info (`(c) => getConnInfo(c).remote.address`,
     * `getConnInfo` from `@hono/node-server/conninfo`, `hono/bun`,
     * `hono/deno`…), reading a forwarded header itself only behind a proxy
     * it trusts. Called once per request, only when `recordClientAddress` is on.
     */
    clientAddress?: (c: Context) => string | undefined;
  };

/** The Hono environment the middleware provides: `c.var.session` / `c.get('session')`, typed. */
export interface SessionEnv<Data extends object = Record<string, unknown>> {
  Variables: { session: Session<Data> };
}

/**
 * Hono 4 middleware that sets the typed context variable `session`. The
 * session is read before `next()` (one store read when the request has a
 * session cookie) and saved after it, before Hono hands the response to the
 * server: a store failure is thrown to Hono's error handler (`app.onError`,
 * 500 by default), whose response carries no `Set-Cookie`. When the store is
 * down or timed out it is an `HTTPException` whose `getResponse()` is a 503
 * with `Retry-After` (its `cause` is the `BackendError`): Hono's default
 * handler answers with it, and so does an `onError` written as Hono's docs
 * show (`if (err instanceof HTTPException) return err.getResponse()`). A
 * handler's own `update()` that meets an outage throws the `BackendError`,
 * whose `getResponse()` Hono's default handler answers (503); a 500 that an
 * `onError` gave it becomes the 503.
 *
 * A cross-origin browser request with an unsafe method is answered 403
 * before any session is loaded, unless the `csrf` option says otherwise.
 *
 * Throws a `TypeError` at once for a backend without `compareAndSet` (or,
 * with `owners: true`, without sessions by owner) or an invalid option.
 */
export function sessionMiddleware<Data extends object = Record<string, unknown>>(
  backend: Backend,
  options: HonoSessionOptions = {},
): MiddlewareHandler<SessionEnv<Data>> {
  const { clientAddress, ...sessionOptions } = options;
  const engine = new SessionEngine<Data>(backend, sessionOptions);
  if (clientAddress !== undefined && typeof clientAddress !== 'function') throw new TypeError('clientAddress must be a function of the Hono context');
  if (engine.options.recordClientAddress && clientAddress === undefined) {
    throw new TypeError("recordClientAddress on Hono needs the clientAddress option: (c) => getConnInfo(c).remote.address, with your runtime's getConnInfo");
  }
  const addressOf = engine.options.recordClientAddress ? clientAddress : undefined;
  const guard = crossOriginGuard(options.csrf, engine.carriesSessionHeader);
  return async function sessionkit(c, next) {
    const verdict = guard(c.req.method, c.req.raw.headers, c.req.header('host') ?? new URL(c.req.url).host);
    if (!verdict.allowed) return c.body(verdict.body, verdict.status, { 'content-type': CSRF_REFUSAL_CONTENT_TYPE });
    let context;
    try {
      context = await engine.load(c.req.header('cookie'), c.req.raw.headers, engine.recordsClient ? { userAgent: c.req.header('user-agent'), clientAddress: addressOf?.(c) } : undefined);
    } catch (error) {
      throw asHttpException(error);
    }
    c.set('session', context.session);
    await next();
    // A handler's own update() that met a store outage reached `onError`; an onError written as Hono's docs show
    // answers 500 for anything but an HTTPException. A 500 for an outage is the misreport this adapter exists to
    // avoid, so that one answer (and only that one: another status is the application's choice) becomes the 503.
    if (c.error !== undefined && c.res.status === 500 && isStoreOutage(c.error)) c.res = outageResponse();
    let pairs;
    try {
      pairs = await context.commit();
    } catch (error) {
      throw asHttpException(error);
    }
    applySessionHeaders(
      {
        get: (name) => c.res.headers.get(name),
        // c.header copies an immutable Response (one returned by fetch) before changing it.
        set: (name, value) => c.header(name, value),
        append: (name, value) => c.header(name, value, { append: true }),
      },
      pairs,
    );
  };
}

/** A store outage as Hono's own 503, a login refused by the owner's limit as its 409 (the error as `cause`); any other error as it is. */
function asHttpException(error: unknown): unknown {
  const res = sessionErrorResponse(error);
  if (res === undefined) return error;
  return new HTTPException(res.status as 409 | 503, { res, message: isStoreOutage(error) ? 'the session store is unavailable' : 'too many sessions for this user', cause: error });
}

import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import { assertNoClientAddress } from '../../http/request-client.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';
import { sessionErrorResponse } from '../../core/errors.js';
import { withSessionHeaders } from './response-headers.js';

/** Options of {@link withSession}: the typed-session options and `csrf`, nothing fetch-specific. */
export interface FetchSessionOptions extends SessionOptions, CsrfProtectionOption {}

/** A fetch handler that also receives the request's typed session. */
export type FetchSessionHandler<Data extends object> = (request: Request, session: Session<Data>) => Response | Promise<Response>;

/**
 * Wraps `handler` into a `(request) => Promise<Response>` with a typed
 * session. The session is read before `handler` runs (one store read when the
 * request has a session cookie) and saved once it has returned its
 * `Response`, before that response is handed back; its headers then carry
 * `Set-Cookie` (when the session changed), `Vary: Cookie` and
 * `Cache-Control: no-store` beside a cookie (a copy of the response when its
 * headers are immutable).
 *
 * A store that is down or timed out (`BackendError` code `unavailable`,
 * `timeout` or `indeterminate`, while reading, saving or in the handler's
 * own `update()`) is answered here: 503 with `Retry-After`, no `Set-Cookie`
 * (the `onEvent` listener gets the `error` event). Other errors are rethrown,
 * as the Hono adapter hands them to Hono: the host's error handler answers
 * (`Bun.serve`'s `error`, `Deno.serve`'s `onError`, Next.js's error page — a
 * 500 by default) and that response carries no `Set-Cookie`. Either way the
 * stored session is unchanged and the client keeps its cookie. When `handler` throws the session is not saved: the response that
 * would carry its new cookie does not exist (writes already made with
 * `update(fn)` stay).
 *
 * Throws a `TypeError` at once for a backend without `compareAndSet` (or,
 * with `owners: true`, without sessions by owner), an invalid option or a
 * missing handler.
 */
export function withSession<Data extends object = Record<string, unknown>>(
  backend: Backend,
  options: FetchSessionOptions,
  handler: FetchSessionHandler<Data>,
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withSession needs a handler function');
  const engine = new SessionEngine<Data>(backend, options);
  assertNoClientAddress(engine.options.recordClientAddress, 'the fetch adapter');
  const guard = crossOriginGuard(options.csrf, engine.carriesSessionHeader);
  return async (request) => {
    const verdict = guard(request.method, request.headers, new URL(request.url).host);
    if (!verdict.allowed) return new Response(verdict.body, { status: verdict.status, headers: { 'content-type': CSRF_REFUSAL_CONTENT_TYPE } });
    try {
      const context = await engine.load(request.headers.get('cookie'), request.headers, engine.recordsClient ? { userAgent: request.headers.get('user-agent') ?? undefined } : undefined);
      const response = await handler(request, context.session);
      if (typeof response !== 'object' || response === null || typeof response.headers?.get !== 'function') throw new TypeError('the withSession handler must return a Response');
      return withSessionHeaders(response, await context.commit());
    } catch (error) {
      // No host answers 503 or 409 by itself: a store outage and a refused login are answered here, everything else goes to the host.
      const answer = sessionErrorResponse(error);
      if (answer !== undefined) return answer;
      throw error;
    }
  };
}

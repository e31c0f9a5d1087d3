/**
 * `sessionkit/node`: typed sessions for a plain `node:http` (or `node:https`)
 * request listener.
 *
 * ```ts
 * const server = http.createServer(withSession<{ count: number }>(backend, {}, async (req, res, session) => {
 *   const { count } = await session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   res.end(String(count));
 * }));
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine } from '../../http/engine.js';
import { assertTrustProxy, forwardedClientAddress, type TrustProxy } from '../../http/request-client.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';
import { commitBeforeHead } from '../node-response/commit-before-head.js';
import { isOwnerSessionLimitError, isStoreOutage, OUTAGE_BODY, OUTAGE_HEADERS, OWNER_LIMIT_BODY } from '../../core/errors.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';
export type { TrustProxy } from '../../http/request-client.js';
export { commitBeforeHead } from '../node-response/commit-before-head.js';
export { nodeHeaderTarget } from '../node-response/header-target.js';

/** Options of {@link withSession}: the typed-session options, `csrf`, the proxies to trust and the error hook. */
export interface NodeSessionOptions extends SessionOptions, CsrfProtectionOption {
  /**
   * The proxies whose `X-Forwarded-For` entries decide the client address that
   * `recordClientAddress` records: a number of hops, or the proxies' IP
   * addresses. Default 0: the socket's peer (a header the client wrote itself
   * is never believed). Node's own server has no such setting, so this is it.
   */
  trustProxy?: TrustProxy;
  /**
   * Answers a request whose session could not be loaded or saved, or whose
   * handler threw or rejected, with the head unwritten unless the handler
   * already wrote it. When saving fails after a handler error it is called
   * again, for the store failure, and that response replaces the first.
   * Default: a plain-text 503 with `Retry-After` when the store is down or
   * timed out (`BackendError` code `unavailable`, `timeout` or
   * `indeterminate`), else a plain-text 500 with the error logged to stderr;
   * once the response was sent, nothing more (a response still being written
   * is cut).
   */
  onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
}

/** A request handler that also receives the request's typed session. */
export type SessionHandler<Data extends object> = (req: IncomingMessage, res: ServerResponse, session: Session<Data>) => void | Promise<void>;

/**
 * Where a request keeps its session: a symbol property, not a WeakMap, whose
 * values V8's young-generation collector keeps alive (each request's session
 * graph would be promoted to the old generation).
 */
const SESSION = Symbol('sessionkit.node.session');
type WithSession = IncomingMessage & { [SESSION]?: Session<object> };

/**
 * Wraps `handler` into a `node:http` request listener with a typed session.
 * The session is read before `handler` runs (one store read when the request
 * has a session cookie) and saved before the response head is written; a
 * store failure then becomes `onError`'s response and no cookie is sent.
 * A cross-origin browser request with an unsafe method is answered 403
 * without calling `handler` or loading a session, unless the `csrf` option
 * says otherwise.
 * Throws a `TypeError` at once for a backend without `compareAndSet` (or,
 * with `owners: true`, without sessions by owner) or an invalid option. The listener's promise never rejects.
 */
export function withSession<Data extends object = Record<string, unknown>>(
  backend: Backend,
  options: NodeSessionOptions,
  handler: SessionHandler<Data>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { onError = defaultOnError, csrf, trustProxy = 0, ...sessionOptions } = options;
  assertTrustProxy(trustProxy);
  if (typeof onError !== 'function') throw new TypeError('onError must be a function');
  if (typeof handler !== 'function') throw new TypeError('withSession needs a handler function');
  const engine = new SessionEngine<Data>(backend, sessionOptions);
  const guard = crossOriginGuard(csrf, engine.carriesSessionHeader);

  return async (req, res) => {
    const verdict = guard(req.method, req.headers);
    if (!verdict.allowed) return void res.writeHead(verdict.status, { 'content-type': CSRF_REFUSAL_CONTENT_TYPE }).end(verdict.body);
    const respondWithError = (error: unknown) => {
      try {
        onError(error, req, res);
      } catch {
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      }
    };
    try {
      const client = engine.recordsClient ? { userAgent: req.headers['user-agent'], clientAddress: forwardedClientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustProxy) } : undefined;
      const context = await engine.load(req.headers.cookie, req, client);
      (req as WithSession)[SESSION] = context.session as Session<object>;
      // A commit failure drops whatever the response held (an error page included) and answers anew.
      commitBeforeHead(res, () => context.commitSync() ?? context.commit(), respondWithError);
      await handler(req, res, context.session);
    } catch (error) {
      respondWithError(error);
    }
  };
}

/**
 * The session {@link withSession} attached to `req`, for code that receives
 * only the request. Throws when the request did not go through `withSession`.
 */
export function getSession<Data extends object = Record<string, unknown>>(req: IncomingMessage): Session<Data> {
  const session = (req as WithSession)[SESSION];
  if (session === undefined) throw new Error('no session on this request: wrap the listener with withSession()');
  return session as Session<Data>;
}

function defaultOnError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  const outage = isStoreOutage(error);
  const refusedLogin = isOwnerSessionLimitError(error);
  // A store outage (reported through onEvent) and a refused login are states of the service; anything else is a bug worth a trace.
  if (!outage && !refusedLogin) console.error(error);
  if (res.headersSent) {
    // A response already complete stays as the client got it; one still being written is cut.
    if (!res.writableEnded) res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const body = outage ? OUTAGE_BODY : refusedLogin ? OWNER_LIMIT_BODY : 'Internal Server Error';
  res.statusCode = outage ? 503 : refusedLogin ? 409 : 500;
  if (outage) for (const [name, value] of OUTAGE_HEADERS) res.setHeader(name, value);
  else res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

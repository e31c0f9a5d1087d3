/**
 * `sessionkit/fastify`: typed sessions for Fastify 5, as a plugin.
 *
 * ```ts
 * await app.register(sessionPlugin, { backend, cookieName: '__Host-sid', cookie: { secure: true } });
 * app.get('/counter', async (request) => {
 *   const { count } = await getSession<{ count: number }>(request).update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   return String(count);
 * });
 * ```
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Backend } from '../../core/contract.js';
import { crossOriginGuard, CSRF_REFUSAL_CONTENT_TYPE, type CsrfProtectionOption } from '../../csrf/cross-origin-guard.js';
import { SessionEngine, type SessionContext } from '../../http/engine.js';
import { applySessionHeaders, VARY_COOKIE, type HeaderTarget } from '../../http/headers.js';
import type { SessionOptions } from '../../http/session-options.js';
import type { Session } from '../../http/typed-session.js';

export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionRegeneratedError } from '../../http/index.js';

/** Options of {@link sessionPlugin}: the backend, the typed-session options and `csrf`. */
export interface FastifySessionOptions extends SessionOptions, CsrfProtectionOption {
  /** Where sessions are kept; it needs `compareAndSet` (every sessionkit backend has it). */
  backend: Backend;
}

interface FastifyRequestState {
  readonly context: SessionContext<object>;
  /** The commit failed once; the error response that follows must not try again. */
  failed: boolean;
}

const states = new WeakMap<FastifyRequest, FastifyRequestState>();

function replyHeaderTarget(reply: FastifyReply): HeaderTarget {
  return {
    get: (name) => reply.getHeader(name),
    set: (name, value) => void reply.header(name, value),
    // Fastify appends repeated set-cookie values instead of replacing them.
    append: (name, value) => void reply.header(name, value),
  };
}

/**
 * Fastify plugin: decorates every request with `session` (read it typed with
 * {@link getSession}, or declare `FastifyRequest.session` yourself). It skips
 * encapsulation, like `fastify-plugin`, so the hooks cover the whole
 * application wherever it is registered.
 *
 * The session is read in an `onRequest` hook (one store read when the request
 * has a session cookie) and saved in an `onSend` hook, before the head is
 * written; a failure there goes to Fastify's error handler (500 by default;
 * 503 with `Retry-After` when the store is down or timed out: the error
 * carries `statusCode: 503` and `headers`) and the response carries no
 * `Set-Cookie`. While the save runs the reply counts as sent (`reply.sent`),
 * so a `reply.send()` or a throw after the first send is ignored, as in
 * Fastify without the plugin. Responses sent with
 * `reply.hijack()` or written to `reply.raw` skip `onSend`, so their session
 * is not saved. A cross-origin browser request with an unsafe method is
 * answered 403 in `onRequest`, with no session loaded, unless the `csrf`
 * option says otherwise.
 *
 * Rejects with a `TypeError` at registration for a backend without
 * `compareAndSet` (or, with `owners: true`, without sessions by owner) or an
 * invalid option; registering it next to another plugin
 * that decorates `request.session` (such as `@fastify/session`) fails too.
 */
export async function sessionPlugin(fastify: FastifyInstance, options: FastifySessionOptions): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new TypeError('sessionPlugin needs options with a backend');
  const { backend, csrf, ...sessionOptions } = options;
  if (backend === undefined || backend === null) throw new TypeError('sessionPlugin needs a backend option');
  const engine = new SessionEngine(backend, sessionOptions);
  const guard = crossOriginGuard(csrf, engine.carriesSessionHeader);

  fastify.decorateRequest('session', null, []);

  fastify.addHook('onRequest', async (request, reply) => {
    const verdict = guard(request.method, request.headers);
    if (!verdict.allowed) return reply.code(verdict.status).type(CSRF_REFUSAL_CONTENT_TYPE).send(verdict.body);
    const context = await engine.load(request.headers.cookie, request.raw);
    states.set(request, { context, failed: false });
    // Untyped on purpose: a global `FastifyRequest.session` type would clash with @fastify/session's.
    Reflect.set(request, 'session', context.session);
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const state = states.get(request);
    if (state === undefined) return payload;
    if (state.failed) {
      applySessionHeaders(replyHeaderTarget(reply), [VARY_COOKIE]);
      return payload;
    }
    // While the session is saved the reply counts as sent, as Fastify counts one whose head is written: a
    // reply.send() or a throw that follows is ignored (and logged) as it would be without the plugin.
    const raw = reply.raw;
    Object.defineProperty(raw, 'writableEnded', { get: () => true, configurable: true });
    let pairs;
    try {
      pairs = await state.context.commit();
    } catch (error) {
      state.failed = true;
      throw error;
    } finally {
      delete (raw as unknown as Record<string, unknown>).writableEnded;
    }
    applySessionHeaders(replyHeaderTarget(reply), pairs);
    return payload;
  });
}

// What fastify-plugin sets: no encapsulation, a name, the Fastify versions it supports.
Object.assign(sessionPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'sessionkit',
  [Symbol.for('plugin-meta')]: { name: 'sessionkit', fastify: '5.x' },
});

/**
 * The typed session of `request`. Throws when {@link sessionPlugin} is not
 * registered on this application.
 */
export function getSession<Data extends object = Record<string, unknown>>(request: FastifyRequest): Session<Data> {
  const state = states.get(request);
  if (state === undefined) throw new Error('no session on this request: register sessionPlugin first');
  return state.context.session as Session<Data>;
}

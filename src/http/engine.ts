import type { Backend } from '../core/contract.js';
import type { HeaderPair } from './headers.js';
import { readSessionCookie, type CookieHeader, type SessionCookie } from './read-cookie.js';
import { recordedClient, type RequestClient } from './request-client.js';
import { HttpEvents } from './http-events.js';
import { RequestSession } from './request-session.js';
import type { StoreContext } from './session/store-context.js';
import { responseHeaders, sessionHeaderPairs, type CookieDecision } from './session/cookie-decision.js';
import { loadSession, sentKeyOf, type Loaded } from './session/load.js';
import { readSessionHeader, type HeaderSource, type RequestHeaders } from './session-header.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './session-options.js';
import type { Session } from './typed-session.js';

/**
 * The headers a response carries for the commit's `decision`, on the
 * transport the request used (its cookie or its session header); `loaded`
 * says what the request sent. Chosen per request, made once per engine.
 */
type KeyResponder = (decision: CookieDecision, loaded: Loaded) => HeaderPair[];

/** One request's typed session and the step that saves it. */
export interface SessionContext<Data extends object = Record<string, unknown>> {
  /** The session handed to the application. */
  readonly session: Session<Data>;
  /**
   * How the request sent its key, and so how the response returns a new one:
   * `'header'` when it carried the session header (`transport.header`), or
   * there is no cookie transport; `'cookie'` otherwise.
   */
  readonly transport: 'cookie' | 'header';
  /**
   * Saves the session and resolves to the headers the response must carry
   * (apply them with `applySessionHeaders`). Call it once the handler is done
   * and before the response head is written; later calls return the same
   * promise. On rejection send the error response without any of these headers:
   * the client keeps its old cookie, and its session is unchanged.
   */
  commit(): Promise<HeaderPair[]>;
  /**
   * The commit, done at once, when it needs no store call: nothing to write,
   * renew or remove (a read, or a request whose `update(fn)` wrote already),
   * and no store operation of this request still running. Returns the headers
   * `commit()` would have resolved to, and `commit()` then returns them too.
   * Undefined when the commit needs the store, with nothing done: call
   * `commit()`. It spares the response its hold, and the turns of a promise,
   * before the head.
   */
  commitSync(): HeaderPair[] | undefined;
}

/**
 * Typed sessions over a backend, framework-agnostic: what every adapter is
 * built on, and what a new adapter (Koa, a custom server) would use.
 * `load(cookieHeader)` before the handler, `commit()` before the head.
 */
export class SessionEngine<Data extends object = Record<string, unknown>> {
  /** The options after defaults, checked at construction. */
  readonly options: ResolvedSessionOptions;
  /**
   * With the header transport on: whether a request's headers carry the
   * session header (any value, well-formed or not), which makes it a header
   * request, read by that header alone. Give it to `crossOriginGuard` as its
   * second argument. Undefined when the header transport is off.
   */
  readonly carriesSessionHeader: ((headers: RequestHeaders) => boolean) | undefined;
  /** Shared by every request: neither the options nor the events keep per-request state. */
  readonly #store: StoreContext;
  readonly #cookieResponse: KeyResponder;
  readonly #headerResponse: KeyResponder | undefined;

  /** Throws a `TypeError` when an option is invalid (or, with `owners: true`, `backend` keeps no sessions by owner). */
  constructor(backend: Backend, options: SessionOptions = {}) {
    const resolved = resolveSessionOptions(backend, options);
    this.options = resolved;
    // With `client` present (undefined), a request's copy that records its client replaces it rather than adding it.
    this.#store = { options: resolved, events: new HttpEvents(resolved.onEvent), client: undefined };
    const header = resolved.sessionHeader;
    this.carriesSessionHeader = header && ((headers) => readSessionHeader(headers, header).kind !== 'absent');
    this.#cookieResponse = header === undefined ? (decision) => responseHeaders(decision, resolved) : (decision) => [...responseHeaders(decision, resolved), header.varyOnHeader];
    this.#headerResponse = header && ((decision, loaded) => sessionHeaderPairs(decision, sentKeyOf(loaded), header));
  }

  /** Name of the session cookie. */
  get cookieName(): string {
    return this.options.cookieName;
  }

  /**
   * True when `recordUserAgent` or `recordClientAddress` is on: only then does
   * an adapter read the request's client for {@link load}.
   */
  get recordsClient(): boolean {
    return this.options.recordUserAgent || this.options.recordClientAddress;
  }

  /**
   * The session named by a request's `Cookie` header or, with the header
   * transport on, its session header, read from `requestHeaders` (a Fetch
   * `Headers` or `Request`, or node's `IncomingMessage` itself so that a
   * second `Authorization` is seen): a request that carries the header is read by it
   * alone. At most one store read, none without a well-formed key. `client`
   * is what the request says about its client, recorded by this request's
   * writes as far as the options ask (ignored when both are off). Rejects
   * only on a store failure, which `onEvent` also receives as an `error` event.
   */
  load(cookieHeader: CookieHeader, requestHeaders?: HeaderSource, client?: RequestClient): Promise<SessionContext<Data>> {
    const { sessionHeader, cookieName, cookieTransport, recordUserAgent, recordClientAddress } = this.options;
    // The shared context unless there is something of this request's to record.
    const store = client === undefined || !(recordUserAgent || recordClientAddress) ? this.#store : { ...this.#store, client: recordedClient(client, recordUserAgent, recordClientAddress) };
    if (sessionHeader === undefined) return this.#load(store, readSessionCookie(cookieHeader, cookieName), 'cookie', this.#cookieResponse);
    const sent = readSessionHeader(requestHeaders, sessionHeader);
    if (sent.kind !== 'absent' || !cookieTransport) return this.#load(store, sent, 'header', this.#headerResponse!);
    return this.#load(store, readSessionCookie(cookieHeader, cookieName), 'cookie', this.#cookieResponse);
  }

  #load(store: StoreContext, sent: SessionCookie, transport: 'cookie' | 'header', respond: KeyResponder): Promise<SessionContext<Data>> {
    return loadSession(store, sent).then((loaded) => {
      const session = new RequestSession<Data>(store, loaded, respond);
      return { session, transport, commit: () => session.commit(), commitSync: () => session.commitSync() };
    });
  }
}

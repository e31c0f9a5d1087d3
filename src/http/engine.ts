import type { Backend } from '../core/contract.js';
import type { HeaderPair } from './headers.js';
import type { CookieHeader } from './read-cookie.js';
import { recordedClient, type RequestClient } from './request-client.js';
import { HttpEvents } from './http-events.js';
import { RequestSession } from './request-session.js';
import type { StoreContext } from './session/commit-loop.js';
import { loadSession } from './session/load.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './session-options.js';
import type { Session } from './typed-session.js';

/** One request's typed session and the step that saves it. */
export interface SessionContext<Data extends object = Record<string, unknown>> {
  /** The session handed to the application. */
  readonly session: Session<Data>;
  /**
   * Saves the session and resolves to the headers the response must carry
   * (apply them with `applySessionHeaders`). Call it once the handler is done
   * and before the response head is written; later calls return the same
   * promise. On rejection send the error response without any of these headers:
   * the client keeps its old cookie, and its session is unchanged.
   */
  commit(): Promise<HeaderPair[]>;
}

/**
 * Typed sessions over a backend, framework-agnostic: what every adapter is
 * built on, and what a new adapter (Koa, a custom server) would use.
 * `load(cookieHeader)` before the handler, `commit()` before the head.
 */
export class SessionEngine<Data extends object = Record<string, unknown>> {
  /** The options after defaults, checked at construction. */
  readonly options: ResolvedSessionOptions;
  /** Shared by every request: neither the options nor the events keep per-request state. */
  readonly #store: StoreContext;

  /** Throws a `TypeError` when an option is invalid (or, with `owners: true`, `backend` keeps no sessions by owner). */
  constructor(backend: Backend, options: SessionOptions = {}) {
    this.options = resolveSessionOptions(backend, options);
    this.#store = { options: this.options, events: new HttpEvents(this.options.onEvent) };
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
   * The session named by a request's `Cookie` header: at most one store read,
   * none without a well-formed session cookie. `client` is what the request
   * says about its client, recorded by this request's writes as far as the
   * options ask (ignored when both are off). Rejects only on a store
   * failure, which `onEvent` also receives as an `error` event.
   */
  load(cookieHeader: CookieHeader, client?: RequestClient): Promise<SessionContext<Data>> {
    const { recordUserAgent, recordClientAddress } = this.options;
    // The shared context unless there is something of this request's to record.
    const store = client === undefined || !(recordUserAgent || recordClientAddress) ? this.#store : { ...this.#store, client: recordedClient(client, recordUserAgent, recordClientAddress) };
    return loadSession(store, cookieHeader).then((loaded) => {
      const session = new RequestSession<Data>(store, loaded);
      return { session, commit: () => session.commit() };
    });
  }
}

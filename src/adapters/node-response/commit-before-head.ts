import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { applySessionHeaders, type HeaderPair } from '../../http/headers.js';
import { nodeHeaderTarget } from './header-target.js';

type HeldMethod = 'writeHead' | 'write' | 'end' | 'flushHeaders';
const HELD: readonly HeldMethod[] = ['writeHead', 'write', 'end', 'flushHeaders'];

/** Headers that describe the body the handler wanted to send; an error response replaces that body. */
const BODY_HEADERS = ['content-length', 'content-type', 'content-encoding', 'etag', 'last-modified'];

/** The head as it stood when the handler sent it: later changes cannot reach a head node has written. */
interface SentHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: OutgoingHttpHeaders;
}

/**
 * Saves the session before `res` writes its head, scs-style: the first call
 * that would write the head (`writeHead`, `write`, `end`, `flushHeaders`)
 * starts `commit()`, and it and every later call are held until the commit
 * settles. On success the session headers are added and the held calls run in
 * order; on failure they are dropped (no body, no `Set-Cookie`: the client
 * keeps its old cookie) and `onFailure(error)` produces the error response
 * with the head still unwritten.
 *
 * While the commit is pending the response looks to the application as it
 * would have without sessions, so code written for plain node:http or
 * Express behaves the same:
 * - `headersSent` is true, and `writableEnded` once `end()` was called; the
 *   head is the one the handler sent (a later `statusCode` or `setHeader`
 *   does not change it, as node would have refused it);
 * - a second `end()`, and a `write()` after `end()`, are ignored (node would
 *   emit `ERR_STREAM_WRITE_AFTER_END` with no listener and end the process);
 * - `write()` returns false and `'drain'` follows once the held chunks are
 *   written, so `pipe()` pauses and memory stays bounded while the store is slow;
 * - `res.destroy()` (a stream that errored) and a `socket.destroy()` (Express's
 *   final handler after an error that followed the response) take effect once
 *   the held calls ran: the client gets the head and the bytes sent so far, as
 *   it would have. A client that went away meanwhile is not written to.
 *
 * The methods are wrapped on the instance and stay wrapped (pass-through once
 * the commit settled), so wrappers installed later by other middleware keep
 * working.
 */
export function commitBeforeHead(res: ServerResponse, commit: () => Promise<HeaderPair[]>, onFailure: (error: unknown) => void): void {
  // The methods as they are now (the prototype's, or an earlier middleware's wrappers).
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  } as Record<HeldMethod, (...args: unknown[]) => unknown>;
  let state: 'waiting' | 'saving' | 'open' = 'waiting';
  const held: Array<{ method: HeldMethod; args: unknown[] }> = [];
  let head: SentHead | undefined;
  let ended = false;
  /** A `res.destroy(error?)` asked for while held: `null` when none. */
  let destroyResponse: { error: Error | undefined } | null = null;
  let destroySocket = false;
  const responseDestroy = res.destroy;
  // The request's: a pipelined response gets its socket only once the one before it finished.
  const socket = res.socket ?? res.req?.socket ?? null;
  const socketDestroy = socket?.destroy;

  const restore = () => {
    state = 'open';
    // Own properties shadowed the prototype's getters and methods while held.
    delete (res as unknown as Record<string, unknown>).headersSent;
    delete (res as unknown as Record<string, unknown>).writableEnded;
    res.destroy = responseDestroy;
    if (socket !== null && socketDestroy !== undefined) socket.destroy = socketDestroy;
  };
  const clientGone = () => res.destroyed || socket === null || socket.destroyed;
  /**
   * Runs `destroy` once the held bytes went out, as node had written them before the destroy: after 'finish'
   * for an ended response, else after the turn that uncorks the socket the replayed writes went to.
   */
  const afterHeldBytes = (destroy: () => void) => {
    if (ended) {
      if (res.writableFinished) destroy();
      else res.once('finish', destroy);
    } else setImmediate(destroy);
  };
  const runDeferredDestroys = () => {
    const asked = destroyResponse;
    if (asked !== null) afterHeldBytes(() => res.destroy(asked.error));
    else if (destroySocket && socket !== null) afterHeldBytes(() => socket.destroy());
  };

  const release = (pairs: HeaderPair[]) => {
    restore();
    if (clientGone()) {
      held.length = 0;
      return;
    }
    try {
      if (!res.headersSent) {
        if (head !== undefined) resetHead(res, head);
        applySessionHeaders(nodeHeaderTarget(res), pairs);
      }
    } catch (error) {
      fail(error);
      return;
    }
    let lastWrite: unknown = true;
    let wrote = false;
    for (const { method, args } of held.splice(0)) {
      const result = original[method].apply(res, args);
      if (method === 'write') {
        wrote = true;
        lastWrite = result;
      }
    }
    // Writers were told `false`: they wait for a 'drain' that node emits only if its own last write said so.
    if (wrote && lastWrite !== false && !ended) process.nextTick(() => res.emit('drain'));
    runDeferredDestroys();
  };
  const fail = (error: unknown) => {
    restore();
    held.length = 0;
    if (clientGone()) return;
    // The handler gave up on this response (a stream error): nothing to answer, as without sessions.
    if (destroyResponse !== null) return void res.destroy(destroyResponse.error);
    if (!res.headersSent) {
      if (head !== undefined) resetHead(res, head);
      for (const name of BODY_HEADERS) res.removeHeader(name);
    }
    onFailure(error);
    runDeferredDestroys();
  };

  const hold = () => {
    state = 'saving';
    head = { statusCode: res.statusCode, statusMessage: res.statusMessage, headers: { ...res.getHeaders() } };
    Object.defineProperties(res, {
      headersSent: { get: () => true, configurable: true },
      writableEnded: { get: () => ended, configurable: true },
    });
    res.destroy = function (this: ServerResponse, error?: Error) {
      if (clientGone()) return responseDestroy.call(res, error);
      destroyResponse ??= { error };
      return res;
    };
    if (socket !== null && socketDestroy !== undefined) {
      // Express's final handler destroys the socket of a response it thinks sent; a healthy socket waits for the held bytes.
      socket.destroy = function (this: typeof socket, error?: Error) {
        if (error !== undefined || this.destroyed || !this.writable) return socketDestroy.call(this, error);
        destroySocket = true;
        return this;
      };
    }
    commit().then(release, fail);
  };

  for (const method of HELD) {
    const wrapper = function (this: ServerResponse, ...args: unknown[]): unknown {
      if (state === 'open') return original[method].apply(res, args);
      if (state === 'waiting') {
        if (res.headersSent) return original[method].apply(res, args);
        hold();
      }
      if (ended) {
        // After end(): node would throw or emit an error nobody listens to; the response is already decided.
        if (method === 'end') return res;
        return method === 'write' ? false : method === 'flushHeaders' ? undefined : res;
      }
      if (method === 'end') ended = true;
      held.push({ method, args });
      return method === 'write' ? false : method === 'flushHeaders' ? undefined : res;
    };
    // A plain assignment, not defineProperty: on every request's hot path, and V8 caches the transition.
    (res as unknown as Record<HeldMethod, unknown>)[method] = wrapper;
  }
}

/** Puts back the status and headers the handler had when it sent the head. */
function resetHead(res: ServerResponse, head: SentHead): void {
  res.statusCode = head.statusCode;
  res.statusMessage = head.statusMessage;
  for (const name of res.getHeaderNames()) if (!(name in head.headers)) res.removeHeader(name);
  for (const [name, value] of Object.entries(head.headers)) if (value !== undefined && res.getHeader(name) !== value) res.setHeader(name, value);
}

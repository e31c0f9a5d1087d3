import type { ServerResponse } from 'node:http';
import { applySessionHeaders, type HeaderPair } from '../../http/headers.js';
import { nodeHeaderTarget } from './header-target.js';

type HeldMethod = 'writeHead' | 'write' | 'end' | 'flushHeaders';
const HELD: readonly HeldMethod[] = ['writeHead', 'write', 'end', 'flushHeaders'];

/** Headers that describe the body the handler wanted to send; an error response replaces that body. */
const BODY_HEADERS = ['content-length', 'content-type', 'content-encoding', 'etag', 'last-modified'];

/**
 * Saves the session before `res` writes its head, scs-style: the first call
 * that would write the head (`writeHead`, `write`, `end`, `flushHeaders`)
 * starts `commit()`, and it and every later call are held until the commit
 * settles. On success the session headers are added and the held calls run in
 * order; on failure they are dropped (no body, no `Set-Cookie`: the client
 * keeps its old cookie) and `onFailure(error)` produces the error response
 * with the head still unwritten.
 *
 * The methods are wrapped on the instance and stay wrapped (pass-through once
 * the commit settled), so wrappers installed later by other middleware keep
 * working. While a commit is pending `res.headersSent` stays false and
 * `write()` returns true (the held chunks are buffered).
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

  const release = (pairs: HeaderPair[]) => {
    try {
      if (!res.headersSent) applySessionHeaders(nodeHeaderTarget(res), pairs);
    } catch (error) {
      fail(error);
      return;
    }
    state = 'open';
    for (const { method, args } of held.splice(0)) original[method].apply(res, args);
  };
  const fail = (error: unknown) => {
    state = 'open';
    held.length = 0;
    if (!res.headersSent) for (const name of BODY_HEADERS) res.removeHeader(name);
    onFailure(error);
  };

  for (const method of HELD) {
    const wrapper = function (this: ServerResponse, ...args: unknown[]): unknown {
      if (state === 'open' || res.headersSent) return original[method].apply(res, args);
      held.push({ method, args });
      if (state === 'waiting') {
        state = 'saving';
        commit().then(release, fail);
      }
      return method === 'write' ? true : method === 'flushHeaders' ? undefined : res;
    };
    // A plain assignment, not defineProperty: on every request's hot path, and V8 caches the transition.
    (res as unknown as Record<HeldMethod, unknown>)[method] = wrapper;
  }
}

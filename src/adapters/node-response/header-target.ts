import type { ServerResponse } from 'node:http';
import type { HeaderTarget } from '../../http/headers.js';

/**
 * `res`'s header map as a {@link HeaderTarget}, for `applySessionHeaders`:
 * what every adapter over node:http's `ServerResponse` (node, Express) writes
 * the session headers into.
 */
export function nodeHeaderTarget(res: ServerResponse): HeaderTarget {
  return new NodeHeaderTarget(res);
}

// Methods on a class rather than three closures in an object literal: one allocation per response, not four.
class NodeHeaderTarget implements HeaderTarget {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get(name: string): ReturnType<HeaderTarget['get']> {
    return this.#res.getHeader(name);
  }

  set(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  append(name: string, value: string): void {
    this.#res.appendHeader(name, value);
  }
}

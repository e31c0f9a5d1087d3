import type { ServerResponse } from 'node:http';
import type { HeaderTarget } from '../../http/headers.js';

/**
 * `res`'s header map as a {@link HeaderTarget}, for `applySessionHeaders`:
 * what every adapter over node:http's `ServerResponse` (node, Express) writes
 * the session headers into.
 */
export function nodeHeaderTarget(res: ServerResponse): HeaderTarget {
  return {
    get: (name) => res.getHeader(name),
    set: (name, value) => void res.setHeader(name, value),
    append: (name, value) => void res.appendHeader(name, value),
  };
}

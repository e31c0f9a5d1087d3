/**
 * `sessionkit/fetch`: typed sessions for any server written as
 * `(request: Request) => Response` — `Bun.serve`, `Deno.serve`, Next.js route
 * handlers, React Router and SvelteKit hooks, Cloudflare-style workers.
 *
 * ```ts
 * const counter = withSession<{ count: number }>(backend, {}, async (request, session) => {
 *   const { count } = await session.update((d) => ({ ...d, count: (d.count ?? 0) + 1 }));
 *   return new Response(String(count));
 * });
 * Bun.serve({ fetch: counter });
 * ```
 *
 * Web-standard only: `Request`, `Response` and `Headers` (Node 20, Bun,
 * Deno), plus what the core relies on everywhere: `node:crypto` (random keys,
 * digests) and the `Buffer` global (UTF-8 byte counts), which Bun and Deno
 * both provide.
 */
export type { LogoutEverywhereOptions, OwnSession, RegenerateOptions, Session, SessionContext, SessionOptions, SessionStatus } from '../../http/index.js';
export { SessionConflictError, SessionDataTooLargeError, SessionEngine, SessionRegeneratedError } from '../../http/index.js';
export { commitSession, loadSession, type CookieSource } from './load-commit.js';
export { withSessionHeaders } from './response-headers.js';
export { withSession, type FetchSessionHandler, type FetchSessionOptions } from './with-session.js';

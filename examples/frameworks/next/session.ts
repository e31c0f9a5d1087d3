// lib/session.ts of a Next.js (App Router) app: one backend and one engine per server process.
import { MemoryBackend } from 'sessionkit';
import { SessionEngine, type FetchSessionOptions } from 'sessionkit/fetch';

export interface AppSession {
  user?: string;
  count?: number;
}

// In production: new PostgresBackend(pool) or new RedisBackend(redis). Edge runtime has no TCP or
// node:crypto, so every file that touches sessions runs on the Node.js runtime (Next's default).
export const backend = new MemoryBackend();
export const sessionOptions: FetchSessionOptions = { cookieName: 'sid' };
export const sessions = new SessionEngine<AppSession>(backend, sessionOptions);

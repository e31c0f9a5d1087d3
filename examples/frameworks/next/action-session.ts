// lib/action-session.ts: sessions in server actions. An action returns no Response: its cookies
// go through Next's cookies() store, which Next serializes itself (it adds Expires beside Max-Age).
import { parseSetCookie } from 'cookie';
import { cookies, headers } from 'next/headers.js';
import { commitSession, loadSession, type Session } from 'sessionkit/fetch';
import { sessions, type AppSession } from './session.js';

/** What an action needs of Next's request: the raw Cookie header, and the store `cookies()` gives actions. */
export interface ActionCookies {
  cookieHeader: string | null;
  jar: Pick<Awaited<ReturnType<typeof cookies>>, 'set'>;
}

const fromNext = async (): Promise<ActionCookies> => ({ cookieHeader: (await headers()).get('cookie'), jar: await cookies() });

/**
 * Runs `fn` with the request's session, then saves it and sets its cookie
 * through `cookies()`. The raw header is read (not `cookies().get`), so a
 * duplicated session cookie is refused as in every adapter.
 */
export async function withActionSession<T>(fn: (session: Session<AppSession>) => Promise<T>, io?: ActionCookies): Promise<T> {
  const { cookieHeader, jar } = io ?? (await fromNext());
  const context = await loadSession(sessions, cookieHeader);
  const result = await fn(context.session);
  const pending = new Headers();
  await commitSession(context, pending);
  for (const line of pending.getSetCookie()) {
    const { name, value, maxAge, path, domain, httpOnly, secure, sameSite, partitioned } = parseSetCookie(line);
    jar.set({ name, value: value ?? '', maxAge, path, domain, httpOnly, secure, sameSite: sameSite as 'lax' | 'strict' | 'none' | undefined, partitioned });
  }
  return result;
}

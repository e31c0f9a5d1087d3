// lib/current-user.ts: for Server Components, which render after the response head is decided and
// so cannot set cookies. They read the session and never save it: writes go through server actions
// or route handlers, and proxy.ts renews the cookie's expiry on navigation.
import { headers } from 'next/headers.js';
import { loadSession } from 'sessionkit/fetch';
import { sessions } from './session.js';

/** The logged-in user, for `const user = await currentUser()` in a page; read-only by design. */
export async function currentUser(cookieHeader?: string | null): Promise<string | undefined> {
  const { session } = await loadSession(sessions, cookieHeader === undefined ? (await headers()).get('cookie') : cookieHeader);
  return session.get('user');
}

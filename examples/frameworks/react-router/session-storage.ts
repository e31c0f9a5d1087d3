// app/sessions.server.ts of a React Router 7 (or Remix) app: React Router's own createSessionStorage
// over any sessionkit backend. React Router keeps the key in its (signed) cookie; the backend keeps the data.
import { createCookie, createSessionStorage, type FlashSessionData, type SessionData } from 'react-router';
import { isWellFormedKey, type Backend } from 'sessionkit';
import { SessionConflictError } from 'sessionkit/http';

/** Seconds until `expires`, at least 1; undefined (the backend's default period) without a date. */
const secondsUntil = (expires: Date | undefined): number | undefined =>
  expires === undefined ? undefined : Math.max(1, Math.ceil((expires.getTime() - Date.now()) / 1000));

/** The stored JSON object, or null for anything else (a value some other writer left under the key). */
function parseObject(value: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A `SessionStorage` whose data lives in `backend`, as JSON, under keys the backend generates. */
export function createSessionkitStorage<Data = SessionData>(backend: Backend, secrets: string[]) {
  const cookie = createCookie('__session', { secrets, httpOnly: true, sameSite: 'lax', path: '/', maxAge: 604_800 });
  return createSessionStorage<Data>({
    cookie,
    createData: (data, expires) => backend.generate({ value: JSON.stringify(data), expiry: secondsUntil(expires) }),
    readData: async (id) => {
      const found = isWellFormedKey(id) ? await backend.get(id) : undefined;
      return found?.ok ? (parseObject(found.value) as FlashSessionData<Data, Data> | null) : null;
    },
    // `set` never revives a session that expired meanwhile: the next request then starts a new one.
    updateData: (id, data, expires) => backend.set(id, JSON.stringify(data), { expiry: secondsUntil(expires) }),
    deleteData: (id) => backend.clear(id),
  });
}

/**
 * The `update(fn)` road for actions that must not lose writes: commitSession
 * stores the whole session (the last writer wins), this applies `fn` to the
 * stored data with compare-and-set, retrying on a concurrent change. Resolves
 * to the new data, or undefined when the session no longer exists.
 */
export async function updateSessionData<Data extends object>(
  backend: Backend,
  id: string,
  fn: (data: Partial<Data>) => Partial<Data>,
  maxAttempts = 100,
): Promise<Partial<Data> | undefined> {
  if (!isWellFormedKey(id)) return undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const current = await backend.get(id);
    if (!current.ok) return undefined;
    const stored = parseObject(current.value);
    if (stored === null) return undefined;
    const next = fn(stored as Partial<Data>);
    // Keeps the time left: only React Router's commitSession renews the expiry (with its cookie).
    const result = await backend.compareAndSet(id, current.value, JSON.stringify(next), { expiry: Math.max(1, current.period) });
    if (result === 'ok') return next;
    if (result === 'NotFound') return undefined;
  }
  throw new SessionConflictError(maxAttempts);
}

// app/routes/*.ts: loaders and actions on the sessionkit-backed SessionStorage.
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from 'react-router';
import { MemoryBackend } from 'sessionkit';
import { createSessionkitStorage, updateSessionData } from './session-storage.js';

interface AppSession {
  user?: string;
  count?: number;
}

// In production: new PostgresBackend(pool) or new RedisBackend(redis), and a secret from the environment.
export const backend = new MemoryBackend();
export const storage = createSessionkitStorage<AppSession>(backend, [process.env.SESSION_SECRET ?? 'dev-only-secret']);

/** GET /: who is logged in and the count. */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await storage.getSession(request.headers.get('Cookie'));
  return { user: session.get('user') ?? null, count: session.get('count') ?? 0 };
}

/** POST /login: a new key for the logged-in session (no fixation), the old one deleted. */
export async function loginAction({ request }: ActionFunctionArgs) {
  const form = await request.formData();
  const old = await storage.getSession(request.headers.get('Cookie'));
  const fresh = await storage.getSession();
  fresh.set('count', Number(old.get('count') ?? 0));
  fresh.set('user', String(form.get('user') ?? ''));
  if (old.id !== '') await storage.destroySession(old);
  return redirect('/', { headers: { 'Set-Cookie': await storage.commitSession(fresh) } });
}

/** POST /increment: parallel submissions all count (update road); the first one creates the session. */
export async function incrementAction({ request }: ActionFunctionArgs) {
  const session = await storage.getSession(request.headers.get('Cookie'));
  if (session.id === '') {
    session.set('count', 1);
    return Response.json({ count: 1 }, { headers: { 'Set-Cookie': await storage.commitSession(session) } });
  }
  const updated = await updateSessionData<AppSession>(backend, session.id, (data) => ({ ...data, count: (data.count ?? 0) + 1 }));
  return Response.json({ count: updated?.count ?? null });
}

/** POST /logout: the data deleted, the cookie expired. */
export async function logoutAction({ request }: ActionFunctionArgs) {
  const session = await storage.getSession(request.headers.get('Cookie'));
  return redirect('/', { headers: { 'Set-Cookie': await storage.destroySession(session) } });
}

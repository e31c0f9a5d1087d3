// The counter as a Web-standard handler: (Request) => Promise<Response>, for any runtime.
import type { Backend } from 'sessionkit';
import { withSession } from 'sessionkit/fetch';

interface Counter {
  count?: number;
}

/** Every request increments the session's counter and answers the new count as text. */
export function counter(backend: Backend): (request: Request) => Promise<Response> {
  return withSession<Counter>(backend, {}, async (_request, session) => {
    const { count } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return new Response(String(count), { headers: { 'Content-Type': 'text/plain' } });
  });
}

import { withSession } from '../../../src/adapters/fetch/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';

/**
 * The test application on `sessionkit/fetch`, driven with plain `Request`
 * objects. A rejection becomes a 500, as `Bun.serve` and `Deno.serve` answer one.
 */
export const fetchApp: AppFactory = async (backend, options) => {
  const handler = withSession<TestData>(backend, options, async (request, session) => {
    const url = new URL(request.url);
    const { status = 200, body, headers = {} } = await dispatch(session, url.pathname + url.search);
    return new Response(body, { status, headers: { 'Content-Type': 'text/plain', ...headers } });
  });
  return {
    get: async (url, headers = {}) => {
      const res = await handler(new Request(new URL(url, 'http://localhost'), { headers })).catch(() => new Response('Internal Server Error', { status: 500 }));
      return {
        status: res.status,
        body: await res.text(),
        setCookies: res.headers.getSetCookie(),
        header: (name) => res.headers.get(name) ?? undefined,
      };
    },
    close: async () => undefined,
  };
};

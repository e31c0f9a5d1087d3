import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { sessionMiddleware, type SessionEnv } from '../../../src/adapters/hono/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';

/** The test application on Hono 4, driven with `app.request`. */
export const honoApp: AppFactory = async (backend, options) => {
  const app = new Hono<SessionEnv<TestData>>();
  // As Hono's docs write an error handler: an HTTPException answers itself.
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text('Internal Server Error', 500)));
  app.use(sessionMiddleware<TestData>(backend, options));
  app.get('/*', async (c) => {
    const url = new URL(c.req.url);
    const { status = 200, body, headers = {} } = await dispatch(c.var.session, url.pathname + url.search);
    return c.text(body, status as 200, headers);
  });
  return {
    get: async (url, headers = {}) => {
      const res = await app.request(url, { headers });
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

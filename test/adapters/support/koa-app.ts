import Koa from 'koa';
import { sessionMiddleware, type KoaSessionContext } from '../../../src/adapters/koa/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';
import { serve } from './real-server.js';

/** The test application on Koa 3, served on 127.0.0.1 (Koa has no injection utility: real HTTP). */
export const koaApp: AppFactory = async (backend, options) => {
  const app = new Koa<Koa.DefaultState, KoaSessionContext<TestData>>();
  app.silent = true;
  app.use(sessionMiddleware<TestData>(backend, options));
  app.use(async (ctx) => {
    const { status = 200, body, headers = {} } = await dispatch(ctx.session, ctx.url);
    ctx.set(headers);
    ctx.status = status;
    ctx.type = 'text/plain';
    ctx.body = body;
  });
  return serve(app.callback());
};

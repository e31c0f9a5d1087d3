import express from 'express';
import express4Module from 'express4';
import { getSession, sessionMiddleware } from '../../../src/adapters/express/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';
import { serve } from './real-server.js';

/** Express 4 (the `express4` alias of express@4), typed as Express 5's module: the adapter's surface is the same on both. */
export const express4 = express4Module as unknown as typeof express;

/** The two Express majors the adapter supports, for suites that run on each. */
export const EXPRESS_VERSIONS = [
  { name: 'Express 5', express },
  { name: 'Express 4', express: express4 },
] as const;

/** The test application on the given Express (Express 5 unless told), served on 127.0.0.1. */
export const expressAppOn =
  (expressModule: typeof express): AppFactory =>
  async (backend, options) => {
    const app = expressModule();
    app.use(sessionMiddleware<TestData>(backend, options));
    // Express 4 does not catch a rejected handler: the error goes to next() as an Express 4 app passes it.
    app.get(/.*/, (req, res, next) => {
      dispatch(getSession<TestData>(req), req.originalUrl).then(({ status = 200, body, headers = {} }) => {
        res.status(status).set(headers).type('text/plain').send(body);
      }, next);
    });
    return serve(app);
  };

/** The test application on Express 5. */
export const expressApp: AppFactory = expressAppOn(express);

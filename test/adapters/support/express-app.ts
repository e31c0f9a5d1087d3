import express from 'express';
import { getSession, sessionMiddleware } from '../../../src/adapters/express/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';
import { serve } from './real-server.js';

/** The test application on Express 5, served on 127.0.0.1. */
export const expressApp: AppFactory = async (backend, options) => {
  const app = express();
  app.use(sessionMiddleware<TestData>(backend, options));
  app.get(/.*/, async (req, res) => {
    const { status = 200, body, headers = {} } = await dispatch(getSession<TestData>(req), req.originalUrl);
    res.status(status).set(headers).type('text/plain').send(body);
  });
  return serve(app);
};

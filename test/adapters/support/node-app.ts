import { withSession } from '../../../src/adapters/node/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';
import { serve } from './real-server.js';

/** The test application on plain node:http, served on 127.0.0.1. */
export const nodeApp: AppFactory = async (backend, options) =>
  serve(
    withSession<TestData>(backend, options, async (req, res, session) => {
      const { status = 200, body, headers = {} } = await dispatch(session, req.url ?? '/');
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/plain');
      res.end(body);
    }),
  );

import Fastify from 'fastify';
import { getSession, sessionPlugin } from '../../../src/adapters/fastify/index.js';
import { dispatch, type AppFactory, type TestData } from './app-spec.js';

/** The test application on Fastify 5, driven with `inject`. */
export const fastifyApp: AppFactory = async (backend, options) => {
  const app = Fastify();
  await app.register(sessionPlugin, { backend, ...options });
  app.get('/*', async (request, reply) => {
    const { status = 200, body, headers = {} } = await dispatch(getSession<TestData>(request), request.url);
    return reply.code(status).headers(headers).type('text/plain').send(body);
  });
  await app.ready();
  return {
    get: async (url, headers = {}) => {
      const res = await app.inject({ method: 'GET', url, headers });
      const setCookie = res.headers['set-cookie'];
      return {
        status: res.statusCode,
        body: res.body,
        setCookies: setCookie === undefined ? [] : [setCookie].flat(),
        header: (name) => {
          const value = res.headers[name.toLowerCase()];
          return value === undefined ? undefined : [value].flat().join(', ');
        },
      };
    },
    close: () => app.close(),
  };
};

import type { AppFactory } from './app-spec.js';
import { expressApp } from './express-app.js';
import { fastifyApp } from './fastify-app.js';
import { fetchApp } from './fetch-app.js';
import { honoApp } from './hono-app.js';
import { koaApp } from './koa-app.js';
import { nodeApp } from './node-app.js';

/** The test app on every adapter, by the name the tests print. */
export const EVERY_APP: ReadonlyArray<readonly [string, AppFactory]> = [
  ['node:http', nodeApp],
  ['Express 5', expressApp],
  ['Fastify 5', fastifyApp],
  ['Hono 4', honoApp],
  ['fetch', fetchApp],
  ['Koa 3', koaApp],
];

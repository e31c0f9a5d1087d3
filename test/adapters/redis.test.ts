import { describe } from 'vitest';
import { supportsOwners, type Backend } from '../../src/index.js';
import { RedisBackend } from '../../src/backends/redis/index.js';
import { redisSkipReason, useTestRedis } from '../support/redis-env.js';
import { describeConcurrency, describeOwners } from './support/adapter-suite.js';
import type { AppFactory } from './support/app-spec.js';
import { expressApp } from './support/express-app.js';
import { fastifyApp } from './support/fastify-app.js';
import { fetchApp } from './support/fetch-app.js';
import { honoApp } from './support/hono-app.js';
import { koaApp } from './support/koa-app.js';
import { nodeApp } from './support/node-app.js';

const apps: Array<[string, AppFactory]> = [
  ['node:http', nodeApp],
  ['Express 5', expressApp],
  ['Fastify 5', fastifyApp],
  ['Hono 4', honoApp],
  ['fetch', fetchApp],
  ['Koa 3', koaApp],
];

describe.skipIf(redisSkipReason !== undefined)(`adapters on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();
  const backend = async () => {
    return new RedisBackend(redis.client, { prefix: redis.prefix('http') });
  };

  for (const [name, factory] of apps) describeConcurrency(`${name} on Redis`, factory, backend);

  // Sessions by owner: RedisBackend keeps them too.
  const keepsOwners = supportsOwners(Object.create(RedisBackend.prototype) as Backend);
  describe.skipIf(!keepsOwners)(`sessions by owner${keepsOwners ? '' : ' (skipped: RedisBackend keeps no sessions by owner yet)'}`, () => {
    const ownerBackend = async () => {
      const created = await backend();
      if (!supportsOwners(created)) throw new Error('RedisBackend keeps no sessions by owner');
      return created;
    };
    for (const [name, factory] of apps) describeOwners(`${name} on Redis`, factory, ownerBackend);
  });
});

import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { getSession, sessionMiddleware, SessionHeadSentError } from '../../src/adapters/koa/index.js';
import { MemoryBackend } from '../../src/index.js';
import { InstrumentedBackend } from '../http/support/instrumented-backend.js';
import { sidOf, withKey } from './support/adapter-suite.js';
import type { TestClient } from './support/app-spec.js';
import { serve } from './support/real-server.js';

interface Data {
  user?: string;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(app: Koa): Promise<TestClient> {
  const client = await serve(app.callback());
  cleanup.push(() => client.close());
  return client;
}

function store() {
  const memory = new MemoryBackend();
  cleanup.push(() => memory.close());
  return new InstrumentedBackend(memory);
}

describe('Koa adapter specifics', () => {
  it('getSession(ctx) is the same typed session as ctx.session; mounted twice, the first one owns it', async () => {
    const app = new Koa();
    app.use(sessionMiddleware<Data>(store()));
    app.use(sessionMiddleware<Data>(store()));
    app.use(async (ctx) => {
      const session = getSession<Data>(ctx);
      session.set('user', ctx.query.user as string);
      ctx.body = String(session === ctx.session);
    });
    const client = await start(app);
    const reply = await client.get('/?user=ann');
    expect(reply.body).toBe('true');
    expect(reply.setCookies).toHaveLength(1);
  });

  it('getSession without the middleware throws', () => {
    expect(() => getSession({})).toThrow(/sessionMiddleware/);
  });

  it('a handler error passes through unsaved: the 500 carries no cookie and nothing was written', async () => {
    const backend = store();
    const app = new Koa();
    app.silent = true;
    app.use(sessionMiddleware<Data>(backend));
    app.use(async (ctx) => {
      ctx.session.set('user', 'ann');
      throw new Error('handler failed');
    });
    const reply = await (await start(app)).get('/');
    expect(reply.status).toBe(500);
    expect(reply.setCookies).toEqual([]);
    expect(backend.writes).toBe(0);
  });

  it('a handler that sends the head itself: reading is fine, a change is a SessionHeadSentError and not saved', async () => {
    const backend = store();
    const errors: unknown[] = [];
    const app = new Koa();
    app.on('error', (error) => errors.push(error));
    app.use(sessionMiddleware<Data>(backend));
    app.use(async (ctx) => {
      ctx.respond = false;
      if (ctx.query.user) ctx.session.set('user', ctx.query.user as string);
      ctx.res.end(ctx.session.get('user') ?? 'anonymous');
    });
    const client = await start(app);
    expect((await client.get('/')).body).toBe('anonymous');
    expect(errors).toEqual([]);
    const changed = await client.get('/?user=ann');
    expect(changed.setCookies).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SessionHeadSentError);
    expect(backend.writes).toBe(0);
  });

  it('the session survives across requests with the cookie', async () => {
    const app = new Koa();
    app.use(sessionMiddleware<Data>(store()));
    app.use(async (ctx) => {
      if (ctx.query.user) ctx.session.set('user', ctx.query.user as string);
      ctx.body = ctx.session.get('user') ?? '';
    });
    const client = await start(app);
    const key = sidOf(await client.get('/?user=ann'))!;
    expect((await client.get('/', withKey(key))).body).toBe('ann');
  });
});

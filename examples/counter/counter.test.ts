import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { parseSetCookie } from 'cookie';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBackend, type Backend } from 'sessionkit';
import { PostgresBackend } from 'sessionkit/postgres';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../test/support/postgres.js';
import { counterApp as expressApp } from './express.js';
import { counterApp as fastifyApp } from './fastify.js';
import { counterApp as honoApp } from './hono.js';
import { counterServer } from './node.js';
import { startExample } from '../support/start-example.js';

interface Reply {
  status: number;
  body: string;
  setCookies: string[];
}
/** One GET of the counter, with the framework's own test utility or a real server on loopback. */
type Get = (cookie?: string) => Promise<Reply>;
interface Client {
  get: Get;
  close(): Promise<void>;
}

async function overHttp(server: Server): Promise<Client> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    get: async (cookie) => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: cookie ? { cookie } : {} });
      return { status: res.status, body: await res.text(), setCookies: res.headers.getSetCookie() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const frameworks: Record<string, (backend: Backend) => Promise<Client>> = {
  'node:http': (backend) => overHttp(counterServer(backend)),
  Express: (backend) => overHttp(createServer(expressApp(backend))),
  Fastify: async (backend) => {
    const app = await fastifyApp(backend);
    return {
      get: async (cookie) => {
        const res = await app.inject({ method: 'GET', url: '/', headers: cookie ? { cookie } : {} });
        const setCookie = res.headers['set-cookie'];
        return { status: res.statusCode, body: res.body, setCookies: setCookie === undefined ? [] : ([] as string[]).concat(setCookie) };
      },
      close: () => app.close(),
    };
  },
  Hono: async (backend) => {
    const app = honoApp(backend);
    return {
      get: async (cookie) => {
        const res = await app.request('/', { headers: cookie ? { cookie } : {} });
        return { status: res.status, body: await res.text(), setCookies: res.headers.getSetCookie() };
      },
      close: async () => undefined,
    };
  },
};

/** `sid=<key>` from the reply's Set-Cookie, as a Cookie header. */
function cookieOf(reply: Reply): string {
  const line = reply.setCookies.find((c) => c.startsWith('sid='));
  expect(line, 'a sid cookie').toBeDefined();
  const { name, value } = parseSetCookie(line!);
  return `${name}=${value}`;
}

const postgresPool = postgresSkipReason === undefined ? testPool(10) : undefined;
const tablePrefix = uniqueTable('example_counter');
afterAll(async () => {
  if (postgresPool) {
    await dropTablesLike(postgresPool, tablePrefix);
    await postgresPool.end();
  }
});

describe.each(Object.keys(frameworks))('counter example on %s', (framework) => {
  const start = frameworks[framework]!;

  it('counts each client separately: 1, 2, 3 with the cookie, 1 for a new client', async () => {
    const backend = new MemoryBackend();
    const client = await start(backend);
    try {
      const first = await client.get();
      expect([first.status, first.body]).toEqual([200, '1']);
      const cookie = cookieOf(first);
      expect(first.setCookies[0]).toMatch(/; HttpOnly; SameSite=Lax$/);
      expect((await client.get(cookie)).body).toBe('2');
      expect((await client.get(cookie)).body).toBe('3');
      expect((await client.get()).body).toBe('1');
      expect((await client.get('sid=forgedforgedforgedforgedforgedforgedforg')).body).toBe('1');
    } finally {
      await client.close();
      await backend.close();
    }
  });

  it('100 concurrent increments with one cookie lose none, on memory', async () => {
    const backend = new MemoryBackend();
    const client = await start(backend);
    try {
      const cookie = cookieOf(await client.get());
      const replies = await Promise.all(Array.from({ length: 100 }, () => client.get(cookie)));
      expect(replies.map((r) => Number(r.body)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      expect((await client.get(cookie)).body).toBe('102');
    } finally {
      await client.close();
      await backend.close();
    }
  });

  it.skipIf(postgresPool === undefined)('100 concurrent increments with one cookie lose none, on PostgreSQL', async () => {
    const backend = new PostgresBackend(postgresPool!, { table: `${tablePrefix}_${framework.replace(/\W/g, '')}` });
    await backend.ensureSchema();
    const client = await start(backend);
    try {
      const cookie = cookieOf(await client.get());
      const replies = await Promise.all(Array.from({ length: 100 }, () => client.get(cookie)));
      expect(replies.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect((await client.get(cookie)).body).toBe('102');
    } finally {
      await client.close();
      await backend.close();
    }
  });
});

describe('counter examples run directly', () => {
  it.each(['node', 'express', 'fastify', 'hono'])('tsx examples/counter/%s.ts listens on PORT and counts', async (name) => {
    const running = await startExample(`examples/counter/${name}.ts`, { PORT: '0' });
    try {
      const first = await fetch(`${running.url}/`);
      expect(await first.text()).toBe('1');
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
      expect(await (await fetch(`${running.url}/again`, { headers: { cookie } })).text()).toBe('2');
    } finally {
      await running.stop();
    }
  });
});

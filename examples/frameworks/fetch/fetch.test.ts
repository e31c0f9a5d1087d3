import { describe, expect, it } from 'vitest';
import { MemoryBackend } from 'sessionkit';
import { missingBinary, runtimes, startServer } from '../../../test/runtimes/spawn-runtime.js';
import { startExample } from '../../support/start-example.js';
import { counter } from './counter.js';

const cookieOf = (response: Response) => response.headers.getSetCookie()[0]!.split(';')[0]!;

/** First request, then a second with the cookie: '1' then '2'. */
async function countsTwice(url: string): Promise<void> {
  const first = await fetch(`${url}/`);
  expect(await first.text()).toBe('1');
  expect(await (await fetch(`${url}/again`, { headers: { cookie: cookieOf(first) } })).text()).toBe('2');
}

describe('fetch counter', () => {
  it('plain Requests on Node: the cookie of every adapter, and 50 parallel increments with one cookie all count', async () => {
    const backend = new MemoryBackend();
    try {
      const handler = counter(backend);
      const first = await handler(new Request('http://localhost/'));
      expect(await first.text()).toBe('1');
      expect(first.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
      const cookie = cookieOf(first);
      const counts = await Promise.all(Array.from({ length: 50 }, async () => Number(await (await handler(new Request('http://localhost/', { headers: { cookie } }))).text())));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    } finally {
      await backend.close();
    }
  });

  it('node.ts serves it with @hono/node-server', async () => {
    const running = await startExample('examples/frameworks/fetch/node.ts', { PORT: '0' });
    try {
      await countsTwice(running.url);
    } finally {
      await running.stop();
    }
  });

  for (const runtime of runtimes) {
    const missing = missingBinary(runtime);
    const file = `examples/frameworks/fetch/${runtime.name.toLowerCase()}.ts`;
    it.skipIf(missing !== undefined)(`${file} serves it on ${runtime.name}${missing ? ` (skipped: ${missing})` : ''}`, async () => {
      const server = await startServer(runtime, { PORT: '0' }, file);
      try {
        await countsTwice(server.url);
      } finally {
        await server.stop();
      }
    });
  }
});

import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from 'sessionkit';
import { startExample } from '../../support/start-example.js';
import { counterApp } from './counter.js';

describe('Koa counter', () => {
  it('over real HTTP: the cookie of every adapter, and 50 parallel increments with one cookie all count', async () => {
    const backend = new MemoryBackend();
    const server = counterApp(backend).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const first = await fetch(url);
      expect(await first.text()).toBe('1');
      expect(first.headers.getSetCookie()[0]).toMatch(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
      const counts = await Promise.all(Array.from({ length: 50 }, async () => Number(await (await fetch(url, { headers: { cookie } })).text())));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await backend.close();
    }
  });

  it('tsx examples/frameworks/koa/counter.ts listens on PORT and counts', async () => {
    const running = await startExample('examples/frameworks/koa/counter.ts', { PORT: '0' });
    try {
      const first = await fetch(`${running.url}/`);
      expect(await first.text()).toBe('1');
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
      expect(await (await fetch(`${running.url}/`, { headers: { cookie } })).text()).toBe('2');
    } finally {
      await running.stop();
    }
  });
});

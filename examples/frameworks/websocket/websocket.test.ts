import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MemoryBackend } from 'sessionkit';
import { InstrumentedBackend } from '../../../test/http/support/instrumented-backend.js';
import { chatServer } from './server.js';

const ORIGIN = 'http://localhost:3000';
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start() {
  const memory = new MemoryBackend();
  const backend = new InstrumentedBackend(memory);
  const server = chatServer(backend, ORIGIN);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => memory.close());
  cleanup.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  const { port } = server.address() as AddressInfo;
  const login = async (user: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/login?user=${user}`);
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  };
  return { backend, port, login };
}

/** Opens a socket; resolves to its first message, or to the HTTP status the upgrade was refused with. */
function connect(port: number, headers: Record<string, string>): Promise<{ first: string; ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers });
    ws.once('message', (data) => resolve({ first: String(data), ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    ws.once('error', reject);
  });
}

describe('WebSocket recipe', () => {
  it('a logged-in session opens the socket, which knows the user', async () => {
    const { port, login } = await start();
    const cookie = await login('ann');
    const opened = await connect(port, { cookie, origin: ORIGIN });
    expect(opened).toMatchObject({ first: 'hello ann' });
    const { ws } = opened as { ws: WebSocket };
    const echo = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('hi');
    expect(await echo).toBe('ann: hi');
    ws.close();
  });

  it('refuses without a session (401), from another Origin (403), and when the store fails (503)', async () => {
    const { port, login, backend } = await start();
    expect(await connect(port, { origin: ORIGIN })).toEqual({ refused: 401 });
    expect(await connect(port, { cookie: 'sid=forgedforgedforgedforgedforgedforgedforg', origin: ORIGIN })).toEqual({ refused: 401 });
    const cookie = await login('ann');
    expect(await connect(port, { cookie, origin: 'https://evil.example' })).toEqual({ refused: 403 });
    backend.failing.add('get');
    expect(await connect(port, { cookie, origin: ORIGIN })).toEqual({ refused: 503 });
  });
});

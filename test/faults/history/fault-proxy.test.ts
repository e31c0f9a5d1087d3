import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../support/fault-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A line server that records every line it received and answers `ok <line>`. */
async function lineServer(): Promise<{ port: number; received: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        received.push(line);
        socket.write(`ok ${line}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A client connection that keeps what it heard and how it ended. */
async function connection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { heard: '', ended: undefined as undefined | 'end' | 'error' | 'close' };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (state.heard += chunk));
  socket.on('end', () => (state.ended ??= 'end'));
  socket.on('error', () => (state.ended ??= 'error'));
  socket.on('close', () => (state.ended ??= 'close'));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, state };
}

describe('FaultProxy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('forwards both ways', async () => {
    const server = await lineServer();
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.close(), server.close);
    const { socket, state } = await connection(proxy.port);
    socket.write('a\n');
    await expect.poll(() => state.heard).toBe('ok a\n');
    socket.destroy();
  });

  it('loses a reply: the server got the command, the client hears nothing and its connection is reset', async () => {
    const server = await lineServer();
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.close(), server.close);
    const { socket, state } = await connection(proxy.port);
    const losing = proxy.loseRepliesFor(300);
    socket.write('a\n');
    expect(await losing).toBe(1);
    expect(server.received).toEqual(['a']);
    expect(state.heard).toBe('');
    expect(state.ended).toBe('error');
    // Afterwards, a new connection works.
    const next = await connection(proxy.port);
    next.socket.write('b\n');
    await expect.poll(() => next.state.heard).toBe('ok b\n');
    next.socket.destroy();
  });

  it('black-holes open and new connections without closing them, until heal lets new ones through', async () => {
    const server = await lineServer();
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.close(), server.close);
    const open = await connection(proxy.port);
    expect(proxy.blackhole()).toBe(1);
    open.socket.write('a\n');
    const during = await connection(proxy.port);
    during.socket.write('b\n');
    await server.close();
    await sleep(300);
    // Nothing forwarded either way, and no FIN or RST, even though the server side closed.
    expect(server.received).toEqual([]);
    expect([open.state, during.state]).toEqual([
      { heard: '', ended: undefined },
      { heard: '', ended: undefined },
    ]);
    expect(proxy.connectionsBlackholed).toBe(2);
    proxy.heal();
    open.socket.destroy();
    during.socket.destroy();
  });

  it('after heal, new connections are forwarded while the black-holed ones stay silent', async () => {
    const server = await lineServer();
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.close(), server.close);
    const old = await connection(proxy.port);
    proxy.blackhole();
    proxy.heal();
    const fresh = await connection(proxy.port);
    fresh.socket.write('b\n');
    old.socket.write('a\n');
    await expect.poll(() => fresh.state.heard).toBe('ok b\n');
    await sleep(200);
    expect(old.state).toEqual({ heard: '', ended: undefined });
    expect(server.received).toEqual(['b']);
    old.socket.destroy();
    fresh.socket.destroy();
  });
});

import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeaderPair } from '../../../src/http/index.js';
import { commitBeforeHead } from '../../../src/adapters/node-response/commit-before-head.js';
import type { TestClient } from '../support/app-spec.js';
import { serve } from '../support/real-server.js';

/** A commit the test settles by hand, counting how often it was started. */
function heldCommit() {
  let settle!: { resolve: (pairs: HeaderPair[]) => void; reject: (error: unknown) => void };
  const promise = new Promise<HeaderPair[]>((resolve, reject) => (settle = { resolve, reject }));
  const state = { starts: 0 };
  return { state, settle, commit: () => (state.starts++, promise) };
}

const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A real server whose handler is `handler`; resolves once a request's handler ran. */
async function server(handler: (res: ServerResponse) => void): Promise<TestClient> {
  const client = await serve((_req, res) => handler(res));
  clients.push(client);
  return client;
}

describe('commitBeforeHead: the session is saved before a node:http response writes its head', () => {
  it('holds writeHead, write, flushHeaders and end until the commit resolves, then adds its headers and runs them in order', async () => {
    const held = heldCommit();
    const observed: Array<[string, unknown]> = [];
    let handled!: () => void;
    const ran = new Promise<void>((resolve) => (handled = resolve));
    const client = await server((res) => {
      commitBeforeHead(res, held.commit, () => undefined);
      observed.push(['starts before any head call', held.state.starts]);
      res.setHeader('Content-Type', 'text/plain');
      observed.push(['headersSent before the head', res.headersSent]);
      observed.push(['writeHead returns res', res.writeHead(201) === res]);
      observed.push(['write says wait for drain', res.write('a')]);
      res.flushHeaders();
      res.end('b');
      observed.push(['headersSent while pending', res.headersSent]);
      observed.push(['writableEnded while pending', res.writableEnded]);
      observed.push(['starts', held.state.starts]);
      handled();
    });
    const reply = client.get('/');
    await ran;
    held.settle.resolve([
      ['Set-Cookie', 'sid=abc; Path=/'],
      ['Vary', 'Cookie'],
    ]);
    const response = await reply;
    expect(observed).toEqual([
      ['starts before any head call', 0],
      ['headersSent before the head', false],
      ['writeHead returns res', true],
      ['write says wait for drain', false],
      ['headersSent while pending', true],
      ['writableEnded while pending', true],
      ['starts', 1],
    ]);
    expect(response.status).toBe(201);
    expect(response.body).toBe('ab');
    expect(response.setCookies).toEqual(['sid=abc; Path=/']);
    expect(response.header('vary')).toBe('Cookie');
    expect(response.header('content-type')).toBe('text/plain');
  });

  it('a failed commit drops the held calls and leaves the head unwritten for the error response, without the body headers', async () => {
    const held = heldCommit();
    const failures: unknown[] = [];
    let handled!: () => void;
    const ran = new Promise<void>((resolve) => (handled = resolve));
    const client = await server((res) => {
      commitBeforeHead(res, held.commit, (error) => {
        failures.push(error);
        expect(res.headersSent).toBe(false);
        expect(res.getHeader('content-type')).toBeUndefined();
        expect(res.getHeader('etag')).toBeUndefined();
        res.statusCode = 503;
        res.end('store down');
      });
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('ETag', '"v1"');
      res.setHeader('X-Kept', 'yes');
      res.writeHead(200);
      res.write('{"secret":');
      res.end('1}');
      handled();
    });
    const reply = client.get('/');
    await ran;
    const outage = new Error('store down');
    held.settle.reject(outage);
    const response = await reply;
    expect(failures).toEqual([outage]);
    expect(response.status).toBe(503);
    expect(response.body).toBe('store down');
    expect(response.setCookies).toEqual([]);
    expect(response.header('x-kept')).toBe('yes');
  });

  it('after the commit settled, the methods pass straight through (one commit per response)', async () => {
    const held = heldCommit();
    held.settle.resolve([['Vary', 'Cookie']]);
    const client = await server((res) => {
      commitBeforeHead(res, held.commit, () => undefined);
      res.write('x');
      void Promise.resolve().then(() =>
        setImmediate(() => {
          res.write('y');
          res.end(String(held.state.starts));
        }),
      );
    });
    const response = await client.get('/');
    expect(response.body).toBe('xy1');
    expect(response.header('vary')).toBe('Cookie');
  });
});

describe('commitBeforeHead: a commit answered as a value', () => {
  it('adds its headers and lets the first head-writing call through in the same turn, holding nothing', async () => {
    const observed: Array<[string, unknown]> = [];
    let starts = 0;
    const client = await server((res) => {
      commitBeforeHead(
        res,
        () => (starts++, [['Set-Cookie', 'sid=abc; Path=/'], ['Vary', 'Cookie']]),
        () => undefined,
      );
      res.setHeader('Vary', 'Accept');
      observed.push(['write passes through', res.write('a')]);
      observed.push(['headersSent at once', res.headersSent]);
      res.end('b');
      observed.push(['writableEnded at once', res.writableEnded]);
      observed.push(['starts', starts]);
    });
    const response = await client.get('/');
    expect(observed).toEqual([
      ['write passes through', true],
      ['headersSent at once', true],
      ['writableEnded at once', true],
      ['starts', 1],
    ]);
    expect(response.body).toBe('ab');
    expect(response.setCookies).toEqual(['sid=abc; Path=/']);
    expect(response.header('vary')).toBe('Accept, Cookie');
  });
});

describe('commitBeforeHead: responses the connection shares', () => {
  it('two pipelined requests on one connection are both answered, in order (the second response has no socket yet while held)', async () => {
    let served = 0;
    const server = http.createServer((req, res) => {
      served += 1;
      const delayMs = req.url === '/first' ? 60 : 10;
      commitBeforeHead(res, () => new Promise<HeaderPair[]>((resolve) => setTimeout(() => resolve([['Vary', 'Cookie']]), delayMs)), () => undefined);
      res.end(req.url);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const text = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let received = '';
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString();
          if ((received.match(/HTTP\/1\.1 200/g) ?? []).length === 2 && received.endsWith('/second')) {
            socket.end();
            resolve(received);
          }
        });
        socket.on('error', reject);
        socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(served).toBe(2);
      expect(text.indexOf('/first')).toBeLessThan(text.indexOf('/second'));
      expect(text.match(/Vary: Cookie/g)).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

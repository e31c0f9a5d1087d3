// While the session is saved, node:http and Express hold the response: write() must say "wait" and 'drain' must
// follow the release, so that a piped body pauses instead of piling up in memory while the store is slow.
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { getSession as expressGetSession, sessionMiddleware } from '../../src/adapters/express/index.js';
import { withSession } from '../../src/adapters/node/index.js';
import { MemoryBackend } from '../../src/index.js';
import { SlowBackend } from './support/slow-backend.js';

const CHUNK_BYTES = 64 * 1024;
const BODY_BYTES = 128 * 1024 * 1024;
/** How long the store stalls every write. */
const STALL_MS = 1_000;

/** A body of BODY_BYTES made as fast as it is read, counting what was read from it. */
function countedBody(): { body: Readable; readBytes: () => number } {
  let produced = 0;
  const chunk = Buffer.alloc(CHUNK_BYTES, 'x');
  const body = new Readable({
    read() {
      if (produced >= BODY_BYTES) return void this.push(null);
      produced += CHUNK_BYTES;
      this.push(chunk);
    },
  });
  return { body, readBytes: () => produced };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(listener: http.RequestListener): Promise<number> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** Downloads the body, discarding it: resolves to its length, status and Set-Cookie. */
function download(port: number): Promise<{ status: number; bytes: number; cookie: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, cookie: (res.headers['set-cookie'] ?? []).length === 1 }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * Starts the download, samples what was read from the body and the process's RSS while the store stalls, and
 * checks both stay small; then that the whole body arrives with the cookie once the save is done.
 */
async function expectBounded(port: number, readBytes: () => number): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const done = download(port);
  let peakRss = rssBefore;
  let readDuringStall = 0;
  const until = Date.now() + STALL_MS * 0.8;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    readDuringStall = readBytes();
  }
  // The pipe paused after its first chunks: a few highWaterMarks, not the body.
  expect(readDuringStall).toBeGreaterThan(0);
  expect(readDuringStall).toBeLessThanOrEqual(16 * CHUNK_BYTES);
  expect(peakRss - rssBefore).toBeLessThan(BODY_BYTES / 2);
  const reply = await done;
  expect(reply).toEqual({ status: 200, bytes: BODY_BYTES, cookie: true });
}

describe('backpressure while the session is saved (a store stalled for 1 s, a 128 MiB body)', () => {
  const slowStore = () => {
    const memory = new MemoryBackend();
    closers.push(() => memory.close());
    return new SlowBackend(memory, STALL_MS);
  };

  it('node:http withSession: pipe() pauses, then the body streams once the save is done', async () => {
    let source!: ReturnType<typeof countedBody>;
    const port = await listen(
      withSession(slowStore(), {}, (_req, res, session) => {
        session.set('x', 1);
        source = countedBody();
        source.body.pipe(res);
      }),
    );
    await expectBounded(port, () => source?.readBytes() ?? 0);
  }, 30_000);

  it('Express: pipe() pauses, then the body streams once the save is done', async () => {
    let source!: ReturnType<typeof countedBody>;
    const app = express();
    app.use(sessionMiddleware(slowStore()));
    app.get('/', (req, res) => {
      expressGetSession(req).set('x', 1);
      source = countedBody();
      source.body.pipe(res);
    });
    const port = await listen(app);
    await expectBounded(port, () => source?.readBytes() ?? 0);
  }, 30_000);

  it("write() returns false while held and 'drain' follows the release, also when node's own writes all succeed", async () => {
    const observed: unknown[] = [];
    const port = await listen(
      withSession(slowStore(), {}, (_req, res, session) => {
        session.set('x', 1);
        observed.push(res.write('a'));
        const started = Date.now();
        res.once('drain', () => {
          observed.push(Date.now() - started >= STALL_MS * 0.9);
          res.end('b');
        });
      }),
    );
    const reply = await download(port);
    expect(observed).toEqual([false, true]);
    expect(reply).toEqual({ status: 200, bytes: 2, cookie: true });
  }, 30_000);
});

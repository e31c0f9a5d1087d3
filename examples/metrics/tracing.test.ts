import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { digestKey, MemoryBackend, type Backend, type SessionEventListener } from 'sessionkit';
import { PostgresBackend } from 'sessionkit/postgres';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../test/support/postgres.js';
import { sessionRoutes } from './app.js';
import { runScenario } from './scenario.js';
import { startExample } from '../support/start-example.js';
import { sessionTracing } from './tracing.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Serves the example's routes with a tracer that keeps finished spans in memory. */
async function serve(makeBackend: (onEvent: SessionEventListener) => Backend | Promise<Backend>) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const onEvent = sessionTracing(provider.getTracer('sessionkit-example-test'));
  const backend = await makeBackend(onEvent);
  const app = express();
  app.use(sessionRoutes(backend, onEvent));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  cleanup.push(() => provider.shutdown());
  cleanup.push(() => backend.close());
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { backend, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans: () => exporter.getFinishedSpans() };
}

const named = (spans: ReadableSpan[], name: string, store = 'http') => spans.filter((s) => s.name === name && s.attributes['sessionkit.store'] === store);

/** Names, attributes and status messages of every span, to look for raw keys in. */
const spanText = (spans: ReadableSpan[]) => JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));

describe('OpenTelemetry tracing example', () => {
  it('records a span per event of real requests, with digests and no key anywhere', async () => {
    const { backend, base, spans } = await serve((onEvent) => new MemoryBackend({ onEvent }));
    const { keys, loggedOutKey } = await runScenario(base, backend);
    const all = spans();

    expect(named(all, 'sessionkit created')).toHaveLength(4);
    expect(named(all, 'sessionkit created', 'MemoryBackend')).toHaveLength(5);
    expect(named(all, 'sessionkit created').map((s) => s.attributes['enduser.id']).filter(Boolean)).toEqual(['alice', 'alice']);
    const [regenerated] = named(all, 'sessionkit regenerated');
    expect(named(all, 'sessionkit regenerated')).toHaveLength(1);
    expect(regenerated!.attributes['sessionkit.from_key_digest']).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(named(all, 'sessionkit destroyed')).toHaveLength(2);
    const [conflict] = named(all, 'sessionkit conflict-retried');
    expect(conflict!.attributes['sessionkit.attempt']).toBe(1);
    const [pruned] = named(all, 'sessionkit pruned');
    expect(pruned!.attributes['sessionkit.deleted_count']).toBe(2);
    expect(pruned!.status.code).toBe(SpanStatusCode.UNSET);
    expect(named(all, 'sessionkit error')).toEqual([]);
    // The phone's session ended by "log out everywhere" is only ever named by its digest.
    expect(all.some((s) => Object.values(s.attributes).includes(digestKey(loggedOutKey)))).toBe(true);

    const text = spanText(all);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) expect(text).not.toContain(key);
  });
});

it('tsx examples/metrics/tracing.ts prints the spans of its requests', async () => {
  const running = await startExample('examples/metrics/tracing.ts', { PORT: '0' });
  try {
    const login = await fetch(`${running.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'ada' }) });
    expect(login.status).toBe(200);
    for (let tries = 0; tries < 50 && !running.output().includes("'sessionkit created'"); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running.output()).toContain("'sessionkit created'");
    expect(running.output()).toContain("'enduser.id': 'ada'");
  } finally {
    await running.stop();
  }
});

describe.skipIf(postgresSkipReason !== undefined)(`OpenTelemetry tracing example on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const prefix = `sk_tracing_${process.pid}_`;
  const pool = testPool(2);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('a store outage becomes error spans (status ERROR, error.type = the BackendError code) from both layers', async () => {
    const ownPool = testPool(2);
    const table = uniqueTable('tracing').replace(/^sk_tracing_/, prefix);
    const { backend, base, spans } = await serve(async (onEvent) => {
      const store = new PostgresBackend(ownPool, { table, onEvent });
      await store.ensureSchema();
      return store;
    });
    const { keys } = await runScenario(base, backend);
    await ownPool.end();
    expect((await fetch(`${base}/counter`, { headers: { cookie: `sid=${keys[0]}` } })).status).toBe(503);

    const errors = spans().filter((s) => s.name === 'sessionkit error');
    expect(errors.map((s) => [s.attributes['sessionkit.store'], s.attributes['sessionkit.during'], s.attributes['error.type']])).toEqual([
      [`postgres:${(backend as PostgresBackend).table}`, 'get', 'unavailable'],
      ['http', 'load', 'unavailable'],
    ]);
    expect(errors.every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
    const text = spanText(spans());
    for (const key of keys) expect(text).not.toContain(key);
  });
});

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend, type Backend } from 'sessionkit';
import { PostgresBackend } from 'sessionkit/postgres';
import { dropTablesLike, postgresSkipReason, testPool, uniqueTable } from '../../test/support/postgres.js';
import { startExample } from '../support/start-example.js';
import { prometheusApp, sessionMetrics } from './prometheus.js';
import { runScenario } from './scenario.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Serves the example on 127.0.0.1 with its own registry; `backend` is built with the metrics listener. */
async function serve(makeBackend: (onEvent: ReturnType<typeof sessionMetrics>) => Backend | Promise<Backend>) {
  const registry = new Registry();
  const onEvent = sessionMetrics(registry);
  const backend = await makeBackend(onEvent);
  const server: Server = await new Promise((resolve) => {
    const listening = prometheusApp(backend, registry, onEvent).listen(0, '127.0.0.1', () => resolve(listening));
  });
  cleanup.push(() => backend.close());
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.getSetCookie()).toEqual([]);
    return res.text();
  };
  return { backend, base, scrape };
}

/** The value of the sample `name{labels}` in Prometheus text, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = match[2]!.split(/,(?=[a-z_]+=")/);
    if (wanted.length === present.length && wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('Prometheus metrics example', () => {
  it('counts the events of real requests by type and store, prune durations in a histogram, and never shows a key', async () => {
    const { backend, base, scrape } = await serve((onEvent) => new MemoryBackend({ onEvent }));
    expect(sample(await scrape(), 'sessionkit_events_total', { type: 'created', store: 'http' })).toBeUndefined();

    const { keys } = await runScenario(base, backend);
    const text = await scrape();
    const http = (type: string) => sample(text, 'sessionkit_events_total', { type, store: 'http' });
    expect(http('created')).toBe(4);
    expect(http('regenerated')).toBe(1);
    expect(http('destroyed')).toBe(2);
    expect(http('conflict-retried')).toBe(1);
    expect(http('pruned')).toBe(1);
    expect(http('error')).toBeUndefined();
    // The backend's own view, from the same listener: every generate, regenerations included.
    expect(sample(text, 'sessionkit_events_total', { type: 'created', store: 'MemoryBackend' })).toBe(5);
    expect(sample(text, 'sessionkit_pruned_sessions_total', { store: 'http' })).toBe(2);
    expect(sample(text, 'sessionkit_prune_duration_seconds_count', { store: 'http' })).toBe(1);
    expect(sample(text, 'sessionkit_prune_duration_seconds_bucket', { store: 'http', le: '+Inf' })).toBe(1);
    expect(text).toMatch(/^# TYPE sessionkit_errors_total counter$/m);
    expect(text).not.toMatch(/^sessionkit_errors_total\{/m);

    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) expect(text).not.toContain(key);
  });

  it('tsx examples/metrics/prometheus.ts serves /metrics', async () => {
    const running = await startExample('examples/metrics/prometheus.ts', { PORT: '0' });
    try {
      const login = await fetch(`${running.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'ada' }) });
      expect(login.status).toBe(200);
      const text = await (await fetch(`${running.url}/metrics`)).text();
      expect(sample(text, 'sessionkit_events_total', { type: 'created', store: 'http' })).toBe(1);
    } finally {
      await running.stop();
    }
  });
});

describe.skipIf(postgresSkipReason !== undefined)(`Prometheus metrics example on PostgreSQL${postgresSkipReason ? ` (skipped: ${postgresSkipReason})` : ''}`, () => {
  const prefix = `sk_metrics_${process.pid}_`;
  const pool = testPool(2);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it("labels by the backend's name, times the background pruning, and counts a store outage by error code", async () => {
    const ownPool = testPool(3);
    const table = uniqueTable('metrics').replace(/^sk_metrics_/, prefix);
    const { backend, base, scrape } = await serve(async (onEvent) => {
      const store = new PostgresBackend(ownPool, { table, onEvent, pruneIntervalSeconds: 1 });
      await store.ensureSchema();
      return store;
    });
    const store = `postgres:${(backend as PostgresBackend).table}`;
    const { keys } = await runScenario(base, backend);
    let text = await scrape();
    expect(sample(text, 'sessionkit_events_total', { type: 'created', store })).toBe(5);
    expect(sample(text, 'sessionkit_events_total', { type: 'conflict-retried', store: 'http' })).toBe(1);

    // The pruner runs about once a second; wait for its first round.
    for (let tries = 0; tries < 100 && sample(text, 'sessionkit_prune_duration_seconds_count', { store }) === undefined; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await scrape();
    }
    expect(sample(text, 'sessionkit_prune_duration_seconds_count', { store })).toBeGreaterThanOrEqual(1);

    await ownPool.end();
    const failed = await fetch(`${base}/counter`, { headers: { cookie: `sid=${keys[0]}` } });
    expect(failed.status).toBe(503); // a store outage, not a bug
    text = await scrape();
    expect(sample(text, 'sessionkit_errors_total', { store: 'http', during: 'load', code: 'unavailable' })).toBe(1);
    expect(sample(text, 'sessionkit_errors_total', { store, during: 'get', code: 'unavailable' })).toBe(1);
    for (const key of keys) expect(text).not.toContain(key);
  });
});

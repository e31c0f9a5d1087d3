// sessionkit events as Prometheus metrics with prom-client, served on
// GET /metrics next to the example's session routes (./app.ts).
// `tsx examples/metrics/prometheus.ts` serves it on PORT (default 8080).
//
// Metrics (no label ever holds a key, a digest or a user id: they would leak
// sessions and explode the number of series):
//   sessionkit_events_total{type,store}               every event
//   sessionkit_errors_total{store,during,code}        failures, by BackendError / session error code
//   sessionkit_pruned_sessions_total{store}           sessions removed in bulk (pruning, log out everywhere)
//   sessionkit_prune_duration_seconds{store}          how long each of those bulk removals took
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Counter, Histogram, Registry } from 'prom-client';
import { MemoryBackend, type Backend, type SessionEventListener } from 'sessionkit';
import { sessionRoutes } from './app.js';

/** The `code` of a BackendError or session error (`unavailable`, `timeout`, `conflict`, `too_large`…), else `unknown`. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown';
}

/**
 * Registers sessionkit's metrics on `registry` and returns the listener that
 * updates them: pass it as `onEvent` to the backend and to the session
 * middleware (the `store` label tells them apart: `http` for the middleware,
 * the backend's name otherwise).
 */
export function sessionMetrics(registry: Registry): SessionEventListener {
  const registers = [registry];
  const events = new Counter({ name: 'sessionkit_events_total', help: 'sessionkit events by type and store', labelNames: ['type', 'store'], registers });
  const errors = new Counter({
    name: 'sessionkit_errors_total',
    help: 'sessionkit failures by store, operation and error code',
    labelNames: ['store', 'during', 'code'],
    registers,
  });
  const pruned = new Counter({ name: 'sessionkit_pruned_sessions_total', help: 'Sessions removed in bulk', labelNames: ['store'], registers });
  const pruneSeconds = new Histogram({
    name: 'sessionkit_prune_duration_seconds',
    help: 'Duration of bulk removals (pruning expired sessions, logging an owner out everywhere)',
    labelNames: ['store'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers,
  });

  return (event) => {
    events.inc({ type: event.type, store: event.store });
    if (event.type === 'pruned') {
      pruned.inc({ store: event.store }, event.deletedCount);
      pruneSeconds.observe({ store: event.store }, event.durationMs / 1000);
    } else if (event.type === 'error') {
      errors.inc({ store: event.store, during: event.during, code: errorCode(event.error) });
    }
  };
}

/** The example app: `GET /metrics` (Prometheus text format) and the session routes. */
export function prometheusApp(backend: Backend, registry: Registry, onEvent: SessionEventListener): express.Express {
  const app = express();
  // Before the session middleware: scrapes neither read nor create sessions.
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(sessionRoutes(backend, onEvent));
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const registry = new Registry();
  const onEvent = sessionMetrics(registry);
  const server = prometheusApp(new MemoryBackend({ onEvent }), registry, onEvent).listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`metrics example: http://localhost:${port} (Prometheus text on /metrics)`);
  });
}

// sessionkit events as OpenTelemetry spans with @opentelemetry/api: one short
// span per event, a child of whatever span is active (the request's, when the
// application registers a context manager, as @opentelemetry/sdk-trace-node
// does). `tsx examples/metrics/tracing.ts` serves the example's session
// routes (./app.ts) on PORT (default 8080) and prints the spans on stdout.
//
// Attributes hold key digests (`sessionkit.key_digest`), never keys; the
// owner goes in `enduser.id` (OpenTelemetry's attribute for the user).
import { context, SpanKind, SpanStatusCode, type Attributes, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryBackend, type SessionEvent, type SessionEventListener } from 'sessionkit';
import { sessionRoutes } from './app.js';

/** The attributes of the span for `event`: what it is about, as digests and counts. */
function attributesOf(event: SessionEvent): Attributes {
  const common = { 'sessionkit.event': event.type, 'sessionkit.store': event.store };
  switch (event.type) {
    case 'created':
      return { ...common, 'sessionkit.key_digest': event.keyDigest, ...(event.owner === undefined ? {} : { 'enduser.id': event.owner }) };
    case 'regenerated':
      return { ...common, 'sessionkit.from_key_digest': event.fromDigest, 'sessionkit.key_digest': event.toDigest };
    case 'destroyed':
    case 'expired-on-read':
      return { ...common, 'sessionkit.key_digest': event.keyDigest };
    case 'conflict-retried':
      return { ...common, 'sessionkit.key_digest': event.keyDigest, 'sessionkit.attempt': event.attempt };
    case 'pruned':
      return { ...common, 'sessionkit.deleted_count': event.deletedCount };
    case 'write-dropped':
      return { ...common, 'sessionkit.operation': event.operation, ...(event.keyDigest === undefined ? {} : { 'sessionkit.key_digest': event.keyDigest }) };
    case 'error':
      return { ...common, 'sessionkit.during': event.during, 'error.type': errorCode(event.error) };
  }
}

/** The `code` of a BackendError or session error, else the error's name: never its message, which is free text. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}

/**
 * A listener that records each sessionkit event as a span `sessionkit <type>`
 * on `tracer`: errors get an error status, a `pruned` span covers the time
 * the removal took. Pass it as `onEvent` to the backend and the middleware.
 */
export function sessionTracing(tracer: Tracer): SessionEventListener {
  return (event) => {
    const endMs = Date.now();
    const startMs = event.type === 'pruned' ? endMs - event.durationMs : endMs;
    const span = tracer.startSpan(`sessionkit ${event.type}`, { kind: SpanKind.INTERNAL, startTime: startMs, attributes: attributesOf(event) }, context.active());
    if (event.type === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: `${event.during}: ${errorCode(event.error)}` });
    span.end(endMs);
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
  const onEvent = sessionTracing(provider.getTracer('sessionkit-example'));
  const app = express();
  app.use(sessionRoutes(new MemoryBackend({ onEvent }), onEvent));
  const server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`tracing example: http://localhost:${port} (spans on stdout)`);
  });
}

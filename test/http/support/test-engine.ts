import { onTestFinished } from 'vitest';
import { MemoryBackend } from '../../../src/index.js';
import { SessionEngine, type SessionOptions } from '../../../src/http/index.js';
import { InstrumentedBackend, InstrumentedOwnerBackend, TestClock } from './instrumented-backend.js';
import { simulate } from './simulate.js';

/**
 * An engine on an instrumented memory backend (with owners when
 * `options.owners`) whose clock moves only when the test says, so periods are
 * exact on a busy machine too. Call it inside a test: the backend is closed
 * when the test finishes.
 */
export function testEngine<Data extends object>(options: SessionOptions = {}, clock = new TestClock()) {
  const memory = new MemoryBackend({ nowMs: clock.monotonicMs });
  onTestFinished(() => memory.close());
  const backend = options.owners === true ? new InstrumentedOwnerBackend(memory) : new InstrumentedBackend(memory);
  const engine = new SessionEngine<Data>(backend, { nowMs: clock.nowMs, ...options });
  return { memory, backend, engine, clock };
}

/** A session holding `data`, created through the engine; resolves to its key. */
export async function createdSession<Data extends object>(engine: SessionEngine<Data>, data: Partial<Data>): Promise<string> {
  const { cookie } = await simulate(engine, undefined, (session) => {
    for (const [name, value] of Object.entries(data)) session.set(name as keyof Data & string, value as Data[keyof Data & string]);
  });
  if (cookie === undefined) throw new Error('no cookie');
  return cookie.value!;
}

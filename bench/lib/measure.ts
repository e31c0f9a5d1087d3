/** One benchmark result: throughput and latency of one operation by one library at one concurrency. */
export interface Measurement {
  library: string;
  operation: string;
  inFlight: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface MeasureOptions {
  library: string;
  operation: string;
  /** Operations kept outstanding at once (a closed loop: each finished one starts the next). */
  inFlight: number;
  durationMs: number;
  warmupMs?: number;
  /** The operation; `i` counts up from 0 across all workers, to pick inputs. */
  op: (i: number) => Promise<unknown>;
}

/** Runs `op` in a closed loop with `inFlight` workers for `durationMs` after a warm-up and reports ops/s and latency. */
export async function measure(options: MeasureOptions): Promise<Measurement> {
  const { library, operation, inFlight, durationMs, warmupMs = Math.min(1000, durationMs / 4), op } = options;
  let counter = 0;
  const loop = async (until: number, latencies: number[] | undefined, failures: { count: number }) => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        await op(counter++);
      } catch {
        failures.count++;
      }
      latencies?.push(performance.now() - started);
    }
  };
  const warmupEnd = performance.now() + warmupMs;
  await Promise.all(Array.from({ length: inFlight }, () => loop(warmupEnd, undefined, { count: 0 })));
  const latencies: number[] = [];
  const failures = { count: 0 };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, () => loop(started + durationMs, latencies, failures)));
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    library,
    operation,
    inFlight,
    opsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: failures.count,
  };
}

/** Runs `op` `count` times with `inFlight` workers, untimed (preloading). */
export async function fill<T>(count: number, inFlight: number, op: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      out.push(await op());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return out;
}

// A steady closed-loop load that records when each operation started, so a
// benchmark can compare latency inside and outside a window (a purge running
// beside the load) from one uninterrupted run.

/** What {@link startLoad} runs: named operations picked by weight. */
export interface LoadOptions {
  /** Operations kept outstanding at once. */
  inFlight: number;
  /** Operation name → [weight, op]; `i` counts up across all workers. */
  ops: Record<string, [weight: number, op: (i: number) => Promise<unknown>]>;
}

/** The samples of one operation kind: start times and latencies (ms, performance.now() clock). */
export interface Samples {
  startMs: Float64Array;
  latencyMs: Float64Array;
  count: number;
  errors: number;
}

/** A running load; `stop()` waits for the operations in flight and returns the samples by operation name. */
export interface RunningLoad {
  stop(): Promise<Map<string, Samples>>;
}

function grow(samples: Samples): void {
  const size = samples.startMs.length * 2;
  const start = new Float64Array(size);
  const latency = new Float64Array(size);
  start.set(samples.startMs);
  latency.set(samples.latencyMs);
  samples.startMs = start;
  samples.latencyMs = latency;
}

/** Starts `inFlight` loops that each run one operation after another until stopped. */
export function startLoad(options: LoadOptions): RunningLoad {
  const entries = Object.entries(options.ops);
  const totalWeight = entries.reduce((sum, [, [weight]]) => sum + weight, 0);
  const bySamples = new Map<string, Samples>(entries.map(([name]) => [name, { startMs: new Float64Array(1 << 16), latencyMs: new Float64Array(1 << 16), count: 0, errors: 0 }]));
  let stopped = false;
  let counter = 0;
  const pick = (i: number) => {
    // A fixed interleaving (i * golden ratio mod 1) instead of Math.random: the same mix in every run.
    let x = ((i * 0.6180339887) % 1) * totalWeight;
    for (const [name, [weight, op]] of entries) {
      if (x < weight) return [name, op] as const;
      x -= weight;
    }
    return [entries[0]![0], entries[0]![1][1]] as const;
  };
  const loop = async () => {
    while (!stopped) {
      const i = counter++;
      const [name, op] = pick(i);
      const samples = bySamples.get(name)!;
      const started = performance.now();
      try {
        await op(i);
      } catch {
        samples.errors++;
      }
      if (samples.count === samples.startMs.length) grow(samples);
      samples.startMs[samples.count] = started;
      samples.latencyMs[samples.count] = performance.now() - started;
      samples.count++;
    }
  };
  const loops = Array.from({ length: options.inFlight }, loop);
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return bySamples;
    },
  };
}

/** Latency statistics of the samples that started within [fromMs, toMs). */
export interface WindowStats {
  count: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function windowStats(samples: Samples, fromMs: number, toMs: number): WindowStats {
  const picked: number[] = [];
  for (let i = 0; i < samples.count; i++) {
    const start = samples.startMs[i]!;
    if (start >= fromMs && start < toMs) picked.push(samples.latencyMs[i]!);
  }
  picked.sort((a, b) => a - b);
  const at = (q: number) => quantileOfSorted(picked, q);
  return { count: picked.length, opsPerSecond: (picked.length / (toMs - fromMs)) * 1000, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: picked[picked.length - 1] ?? NaN };
}

/** The q-quantile (0..1) of values sorted ascending; NaN when there are none. */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Ops/s of an in-process operation, without per-operation timing (which would cost as much as the operation). */
export interface ThroughputOptions {
  /** Operations kept outstanding at once (closed loop). */
  inFlight: number;
  durationMs: number;
  warmupMs: number;
  /** `i` counts up from 0 across all workers. */
  op: (i: number) => Promise<unknown>;
}

/** Runs `op` in `inFlight` loops for `durationMs` after a warm-up; resolves to operations per second. */
export async function throughput(options: ThroughputOptions): Promise<number> {
  const { inFlight, durationMs, warmupMs, op } = options;
  let counter = 0;
  const phase = async (ms: number) => {
    const end = performance.now() + ms;
    let done = false;
    let ops = 0;
    const loop = async () => {
      while (!done) {
        // Check the clock every 256 operations only.
        for (let k = 0; k < 256; k++) await op(counter++);
        ops += 256;
        if (performance.now() >= end) done = true;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, loop));
    return (ops / (performance.now() - started)) * 1000;
  };
  await phase(warmupMs);
  return phase(durationMs);
}

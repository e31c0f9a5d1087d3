/**
 * Runs one request's store operations one after another, in the order they
 * were asked for (`update`, `reload`, owner operations, the commit), so each
 * starts from what the previous one left. A failed operation rejects its own
 * promise only; the next one still runs.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #unsettled = 0;
  readonly #settled = () => void this.#unsettled--;

  /** Runs `operation` once every operation queued before it has settled; its value or promise settles the answer. */
  run<T>(operation: () => T | Promise<T>): Promise<T> {
    this.#unsettled++;
    const run = this.#tail.then(operation);
    // Registered before any caller's reaction, so a caller that awaited the operation finds the queue idle.
    this.#tail = run.then(this.#settled, this.#settled);
    return run;
  }

  /** True when every operation asked for has settled: a step may then run at once, in order all the same. */
  get idle(): boolean {
    return this.#unsettled === 0;
  }
}

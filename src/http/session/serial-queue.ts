/**
 * Runs one request's store operations one after another, in the order they
 * were asked for (`update`, `reload`, owner operations, the commit), so each
 * starts from what the previous one left. A failed operation rejects its own
 * promise only; the next one still runs.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `operation` once every operation queued before it has settled; its value or promise settles the answer. */
  run<T>(operation: () => T | Promise<T>): Promise<T> {
    const run = this.#tail.then(operation);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

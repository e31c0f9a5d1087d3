interface Pending<Input, Output> {
  input: Input;
  deadlineMs: number;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

/** Options of {@link Coalescer}. */
export interface CoalescerOptions {
  /** Most operations in one batch. */
  maxBatchSize: number;
  /** Most batches running at once; what arrives meanwhile waits and leaves as one batch when a slot frees. */
  maxInFlight: number;
  /** Each operation settles within this long of its submission, queueing included. */
  timeoutMs: number;
}

/**
 * Coalesces operations into batches run in one round trip each. Operations
 * submitted in the same tick share a batch; under load, while `maxInFlight`
 * batches are running, new operations queue and leave together, so batches
 * grow with the load and stay single at low load. `runBatch` answers one
 * output per input, in order, within `budgetMs` (what is left of the oldest
 * operation's time); if it rejects, every operation of that batch rejects with
 * the same error, and other batches are unaffected.
 */
export class Coalescer<Input, Output> {
  readonly #runBatch: (inputs: Input[], budgetMs: number) => Promise<Output[]>;
  readonly #options: CoalescerOptions;
  #queue: Pending<Input, Output>[] = [];
  #inFlight = 0;
  #flushScheduled = false;

  constructor(runBatch: (inputs: Input[], budgetMs: number) => Promise<Output[]>, options: CoalescerOptions) {
    this.#runBatch = runBatch;
    this.#options = options;
  }

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.#queue.push({ input, deadlineMs: performance.now() + this.#options.timeoutMs, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const { maxBatchSize, maxInFlight } = this.#options;
    while (this.#queue.length > 0 && this.#inFlight < maxInFlight) {
      this.#inFlight++;
      void this.#run(this.#queue.splice(0, maxBatchSize));
    }
  }

  async #run(batch: Pending<Input, Output>[]): Promise<void> {
    try {
      // The queue is first in, first out: the first operation has the least time left.
      const outputs = await this.#runBatch(
        batch.map((pending) => pending.input),
        batch[0]!.deadlineMs - performance.now(),
      );
      batch.forEach((pending, i) => pending.resolve(outputs[i] as Output));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0) this.#flush();
    }
  }
}

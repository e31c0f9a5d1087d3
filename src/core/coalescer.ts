interface Pending<Input, Output> {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces operations submitted in the same tick into batches of at most
 * `maxBatchSize`, run by `runBatch` in one round trip each. `runBatch` answers
 * one output per input, in order; if it rejects, every operation of that batch
 * rejects with the same error, and other batches are unaffected.
 */
export class Coalescer<Input, Output> {
  readonly #runBatch: (inputs: Input[]) => Promise<Output[]>;
  readonly #maxBatchSize: number;
  #queue: Pending<Input, Output>[] = [];

  constructor(runBatch: (inputs: Input[]) => Promise<Output[]>, maxBatchSize: number) {
    this.#runBatch = runBatch;
    this.#maxBatchSize = maxBatchSize;
  }

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      if (this.#queue.push({ input, resolve, reject }) === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (let start = 0; start < queue.length; start += this.#maxBatchSize) {
      void this.#run(queue.slice(start, start + this.#maxBatchSize));
    }
  }

  async #run(batch: Pending<Input, Output>[]): Promise<void> {
    try {
      const outputs = await this.#runBatch(batch.map((pending) => pending.input));
      batch.forEach((pending, i) => pending.resolve(outputs[i] as Output));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}

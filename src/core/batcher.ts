import { msUntil } from './deadline.js';

/**
 * When a batcher sends what has queued: `schedule(flush)` must call `flush`
 * once, later. {@link MICROTASK} and {@link AFTER_IO} are the two the backends
 * use; tests pass one they run by hand.
 */
export type Scheduler = (flush: () => void) => void;

/**
 * Flush at the end of the current job: operations issued by one piece of
 * code (one request's handler, a `Promise.all`) share a batch, and a lone
 * operation waits for nothing. PostgreSQL uses it: a statement's round trip
 * (a network hop, planning, a commit) is long beside a turn of the event loop,
 * so under load batches grow by queueing behind the statements in flight
 * (`maxBatchesInFlight`), not by waiting for other requests' I/O.
 */
export const MICROTASK: Scheduler = (flush) => queueMicrotask(flush);

/**
 * Flush after this turn's I/O callbacks (`setImmediate`): operations started
 * by several requests whose data arrived together, or by one reply resolving
 * many awaits, share a call. Redis uses it: a script call costs Redis about as
 * much as a few of its operations, so sharing calls across requests is what
 * makes it cheap, and the wait (one loop turn) is short beside a round trip.
 */
export const AFTER_IO: Scheduler = (flush) => {
  setImmediate(flush);
};

/** Options of {@link Batcher}. */
export interface BatcherOptions<Input> {
  /** Most operations in one batch. */
  maxBatchSize: number;
  /**
   * Most batches in flight at once (`Infinity`: no limit). Operations issued
   * while this many run wait and leave together when one returns, so batches
   * grow with the load and stay single at low load.
   */
  maxBatchesInFlight: number;
  /** Each operation settles within this many milliseconds of its submission, queueing included. */
  timeoutMs: number;
  /** The error of an operation whose deadline passed, unless the batch says otherwise ({@link BatchCall.expiryError}). */
  timeoutError: () => Error;
  /** When to send what has queued; default {@link MICROTASK}. */
  schedule?: Scheduler;
  /**
   * Operations of different partitions never share a batch (Redis Cluster:
   * the hash slot, since one script call may only touch keys of one slot).
   * Default: one partition.
   */
  partitionOf?: (input: Input) => number;
  /** Most summed `charsOf` in one batch (a larger single operation gets a batch of its own). Default: no limit. */
  maxBatchChars?: number;
  /** The size of an operation counted against `maxBatchChars`, in characters. */
  charsOf?: (input: Input) => number;
  /**
   * Split what is queued evenly over the free in-flight slots instead of
   * filling batches to `maxBatchSize` in turn: the store runs one part while
   * Node settles another and queues the next (Redis, where a call is short).
   */
  spreadOverFreeSlots?: boolean;
  /**
   * The dispatch answers every operation it was sent by that operation's
   * deadline itself, so the batcher does not expire sent operations (a write
   * whose fate must be learnt before it is answered). Operations still queued
   * at their deadline are failed without being sent, as always.
   */
  dispatchKeepsDeadlines?: boolean;
}

/** What a batch's dispatch may know and change about its batch. */
export interface BatchCall {
  /** Milliseconds left to the earliest deadline in the batch when it was sent. */
  readonly budgetMs: number;
  /** The earliest deadline in the batch, on `performance.now()`. */
  readonly deadlineMs: number;
  /** Error for operations whose deadline passes from now on (e.g. "unreachable" while waiting for a connection, "timeout" once sent). */
  expiryError: () => Error;
  /**
   * How many operations at the head of the batch have already settled by
   * their deadline: a dispatch that waited (for a connection) sends only the
   * rest, and nothing when all have. Their answers are ignored.
   */
  readonly expired: number;
}

/**
 * Runs one batch: one answer per input, in order. An answer that is an
 * `Error` rejects that operation alone; a rejected promise rejects every
 * operation of the batch still waiting. An answer may be a promise (work that
 * continues outside the batch).
 */
export type Dispatch<Input, Output> = (inputs: Input[], call: BatchCall) => Promise<readonly (Output | PromiseLike<Output> | Error)[]>;

interface Pending<Input, Output> {
  input: Input;
  deadlineMs: number;
  resolve: (output: Output | PromiseLike<Output>) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces operations into batches, each run by `dispatch` in one round trip:
 * the queue, the flush, the in-flight limit, per-partition batches, size caps
 * and each operation's deadline, shared by the PostgreSQL and Redis backends
 * (what a batch does on the wire is theirs). As in dataloader, operations
 * issued before the scheduled flush share a batch; as in ioredis's
 * auto-pipelining, what arrives while the in-flight limit is reached leaves
 * together when a batch returns.
 *
 * Every operation settles by its own deadline (submission + `timeoutMs`, or
 * the one given to `submit`), whether still queued or in flight; a batch whose
 * operations all expired frees its in-flight slot even if its dispatch never
 * answers.
 */
export class Batcher<Input, Output> {
  readonly #dispatch: Dispatch<Input, Output>;
  readonly #options: Required<Pick<BatcherOptions<Input>, 'maxBatchSize' | 'maxBatchesInFlight' | 'timeoutMs' | 'timeoutError' | 'schedule'>> & BatcherOptions<Input>;
  #queue: Pending<Input, Output>[] = [];
  #inFlight = 0;
  #flushScheduled = false;
  #pending = 0;
  #idle: (() => void)[] = [];

  constructor(dispatch: Dispatch<Input, Output>, options: BatcherOptions<Input>) {
    this.#dispatch = dispatch;
    this.#options = { schedule: MICROTASK, ...options };
  }

  /** Queues `input`; settles with its answer, its error, or the timeout error at `deadlineMs` (default: now + `timeoutMs`, on `performance.now()`). */
  submit(input: Input, deadlineMs = performance.now() + this.#options.timeoutMs): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.#pending++;
      this.#queue.push({ input, deadlineMs, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#options.schedule(this.#scheduledFlush);
      }
    });
  }

  /** Sends everything queued now, past the in-flight limit, then resolves once every operation submitted so far has settled. */
  async drain(): Promise<void> {
    this.#flush(true);
    if (this.#pending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  readonly #scheduledFlush = (): void => this.#flush(false);

  #flush(force: boolean): void {
    this.#flushScheduled = false;
    const { partitionOf } = this.#options;
    if (partitionOf === undefined) {
      this.#flushPartition(this.#queue, force);
      return;
    }
    // One batch stream per partition; what the in-flight limit holds back stays queued, in order.
    const byPartition = new Map<number, Pending<Input, Output>[]>();
    for (const pending of this.#queue) {
      const partition = partitionOf(pending.input);
      const group = byPartition.get(partition);
      if (group === undefined) byPartition.set(partition, [pending]);
      else group.push(pending);
    }
    this.#queue = [];
    for (const group of byPartition.values()) this.#flushPartition(group, force);
  }

  #flushPartition(queue: Pending<Input, Output>[], force: boolean): void {
    const { maxBatchSize, maxBatchesInFlight, spreadOverFreeSlots } = this.#options;
    if (queue === this.#queue) this.#queue = [];
    let start = 0;
    while (start < queue.length && (force || this.#inFlight < maxBatchesInFlight)) {
      let size = maxBatchSize;
      if (spreadOverFreeSlots && Number.isFinite(maxBatchesInFlight)) {
        const freeSlots = Math.max(1, maxBatchesInFlight - this.#inFlight);
        size = Math.min(maxBatchSize, Math.ceil((queue.length - start) / freeSlots));
      }
      const end = this.#batchEnd(queue, start, size);
      this.#send(queue.slice(start, end));
      start = end;
    }
    if (start < queue.length) this.#queue = start === 0 ? queue.concat(this.#queue) : queue.slice(start).concat(this.#queue);
  }

  /** The end of the batch that starts at `start`: at most `size` operations and `maxBatchChars` characters (at least one). */
  #batchEnd(queue: Pending<Input, Output>[], start: number, size: number): number {
    const { maxBatchChars, charsOf } = this.#options;
    const limit = Math.min(queue.length, start + size);
    if (maxBatchChars === undefined || charsOf === undefined) return limit;
    let chars = charsOf(queue[start]!.input);
    let end = start + 1;
    while (end < limit) {
      chars += charsOf(queue[end]!.input);
      if (chars > maxBatchChars) break;
      end++;
    }
    return end;
  }

  #send(batch: Pending<Input, Output>[]): void {
    // Held behind other batches past their deadline: fail those without sending them.
    let from = this.#expire(batch, 0, this.#options.timeoutError);
    if (from === batch.length) return;
    const sent = from === 0 ? batch : batch.slice(from);
    from = 0;
    this.#inFlight++;
    let done = false;
    const call = { budgetMs: sent[0]!.deadlineMs - performance.now(), deadlineMs: sent[0]!.deadlineMs, expiryError: this.#options.timeoutError, expired: 0 };
    const finish = () => {
      done = true;
      this.#inFlight--;
      if (!this.#flushScheduled && this.#queue.length > 0) this.#flush(false);
    };
    // The queue is first in, first out: deadlines only grow along a batch, so one timer at a time suffices.
    const onTimer = () => {
      from = this.#expire(sent, from, call.expiryError);
      call.expired = from;
      if (from < sent.length) timer = setTimeout(onTimer, msUntil(sent[from]!.deadlineMs));
      else finish();
    };
    let timer = this.#options.dispatchKeepsDeadlines ? undefined : setTimeout(onTimer, msUntil(sent[0]!.deadlineMs));
    let answers: Promise<readonly (Output | PromiseLike<Output> | Error)[]>;
    try {
      answers = this.#dispatch(
        sent.map((pending) => pending.input),
        call,
      );
    } catch (error) {
      answers = Promise.reject(error);
    }
    answers.then(
      (outputs) => {
        if (done) return;
        clearTimeout(timer);
        for (let i = from; i < sent.length; i++) {
          const output = outputs[i];
          if (output instanceof Error) sent[i]!.reject(output);
          else sent[i]!.resolve(output as Output | PromiseLike<Output>);
        }
        this.#settled(sent.length - from);
        finish();
      },
      (error: unknown) => {
        if (done) return;
        clearTimeout(timer);
        for (let i = from; i < sent.length; i++) sent[i]!.reject(error);
        this.#settled(sent.length - from);
        finish();
      },
    );
  }

  /** Rejects, with `error()`, the operations of `batch` from `from` on whose deadline has passed; returns the index of the first one still running. */
  #expire(batch: Pending<Input, Output>[], from: number, error: () => Error): number {
    // Timers have millisecond resolution: count a deadline within 1 ms as reached.
    const now = performance.now() + 1;
    let index = from;
    while (index < batch.length && batch[index]!.deadlineMs <= now) index++;
    if (index > from) {
      // Errors are made only when an operation fails: capturing a stack costs more than a whole call.
      const reason = error();
      for (let i = from; i < index; i++) batch[i]!.reject(reason);
      this.#settled(index - from);
    }
    return index;
  }

  #settled(count: number): void {
    this.#pending -= count;
    if (this.#pending === 0 && this.#idle.length > 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}

import { BackendError } from '../../core/errors.js';
import type { RedisClient } from './client.js';
import { isNoScript, toBackendError } from './errors.js';
import { BATCH_SCRIPT, BATCH_SCRIPT_SHA, OP, type OpCode } from './script.js';

/** One session operation waiting for its batch. */
export interface BatchOp {
  /** The Redis key the operation works on. */
  key: string;
  /** Cluster hash slot of `key` (0 on a single node, where slots do not matter). */
  slot: number;
  /** When the operation must have settled, on the `performance.now()` clock: submission + `timeoutMs`. */
  deadlineMs: number;
  /** The operation's code in the batch script. */
  code: OpCode;
  /** The operation's arguments in the batch script's ARGV (none for get and clear). */
  args: readonly string[];
  /** Turns the operation's reply slot into its result, given Redis's clock (ms) when the batch ran; may throw a `BackendError`. */
  settle(reply: unknown, serverNowMs: number): void;
  fail(error: BackendError): void;
}

/** Most operations in one script call, so that one call never blocks Redis for long. */
const MAX_OPS_PER_CALL = 128;
/** Most argument characters in one script call (large values get calls of their own). */
const MAX_CHARS_PER_CALL = 512 * 1024;
/**
 * Script calls in flight at once on a single node. Operations issued while
 * this many wait for an answer are held and sent together when one returns,
 * so batches grow with load (as ioredis's auto-pipelining does) while Node
 * prepares the next call as Redis runs the current one.
 */
const MAX_CALLS_IN_FLIGHT = 2;

/**
 * How long a reading of the server's clock (from a script reply) stands in for
 * the server's time, in milliseconds. Past it, a lone get goes through the
 * script again, which reads the clock afresh.
 */
const SERVER_CLOCK_READING_MAX_AGE_MS = 10_000;

// Statuses in which ioredis is opening a connection: worth waiting for 'ready'.
const CONNECTING = new Set(['connecting', 'connect']);

interface Waiter {
  batch: BatchOp[];
  /** Index of the first operation not yet failed for want of a connection. */
  from: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Coalesces the operations issued in one turn of the event loop into as few
 * calls of the batch script as the key layout allows: on a single node, one
 * call per free call slot (see MAX_CALLS_IN_FLIGHT), so that Redis and Node
 * work at the same time; on a Cluster, one per hash slot (a script may only
 * touch keys of one slot). Each operation keeps its own result and its own error, and
 * settles within `timeoutMs` of its submission, whatever ioredis does with the
 * call (offline queue, retries).
 */
export class ScriptBatcher {
  readonly #client: RedisClient;
  readonly #timeoutMs: number;
  readonly #bySlot: boolean;
  #queue: BatchOp[] = [];
  #flushScheduled = false;
  #callsInFlight = 0;
  #pendingOps = 0;
  #idle: (() => void)[] = [];
  readonly #waiters = new Set<Waiter>();
  #listeningForReady = false;
  /** Server time minus local time (`performance.timeOrigin + performance.now()`), in ms, from the last script reply. */
  #serverClockOffsetMs = 0;
  /** When that offset was read, on the `performance.now()` clock; -Infinity: never. */
  #serverClockReadAtMs = Number.NEGATIVE_INFINITY;

  constructor(client: RedisClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#bySlot = client.isCluster === true;
  }

  /** True when operations are grouped by hash slot (the client is a Cluster). */
  get bySlot(): boolean {
    return this.#bySlot;
  }

  submit(op: BatchOp): void {
    this.#pendingOps++;
    this.#queue.push(op);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the I/O callbacks of this turn, so that operations started by
      // several requests (or by one reply resolving many awaits) share a call.
      setImmediate(this.#flush);
    }
  }

  /** Sends what is queued now, then resolves once every operation submitted so far has settled (within `timeoutMs`). */
  async drain(): Promise<void> {
    this.#flush(true);
    if (this.#pendingOps > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#listeningForReady && this.#waiters.size === 0) {
      this.#client.removeListener('ready', this.#onReady);
      this.#listeningForReady = false;
    }
  }

  readonly #flush = (force = false): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    // Held until a call in flight returns (see MAX_CALLS_IN_FLIGHT); drain() sends at once.
    if (!this.#bySlot && !force && this.#callsInFlight >= MAX_CALLS_IN_FLIGHT) return;
    this.#queue = [];
    if (!this.#bySlot) {
      // Split what is queued over the free call slots, so that Redis runs one
      // part while Node settles the other and queues the next: one call for
      // everything would leave each side idle while the other works.
      const freeCalls = Math.max(1, MAX_CALLS_IN_FLIGHT - this.#callsInFlight);
      this.#chunk(queue, Math.ceil(queue.length / freeCalls));
      return;
    }
    const groups = new Map<number, BatchOp[]>();
    for (const op of queue) {
      const group = groups.get(op.slot);
      if (group === undefined) groups.set(op.slot, [op]);
      else group.push(op);
    }
    for (const group of groups.values()) this.#chunk(group);
  };

  #chunk(ops: BatchOp[], opsPerCall = MAX_OPS_PER_CALL): void {
    const maxOps = Math.min(opsPerCall, MAX_OPS_PER_CALL);
    let start = 0;
    let chars = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as BatchOp;
      let size = op.key.length + 1;
      for (const arg of op.args) size += arg.length;
      if (i > start && (i - start >= maxOps || chars + size > MAX_CHARS_PER_CALL)) {
        this.#send(ops.slice(start, i));
        start = i;
        chars = 0;
      }
      chars += size;
    }
    this.#send(start === 0 ? ops : ops.slice(start));
  }

  #send(batch: BatchOp[]): void {
    const status = this.#client.status;
    // 'wait' is a lazyConnect client: the first command opens the connection.
    if (status === 'ready' || status === 'wait') {
      this.#dispatch(batch);
    } else if (CONNECTING.has(status)) {
      this.#waitForReady(batch);
    } else {
      // Known down (reconnecting, closed, ended): fail now rather than let
      // ioredis queue a write that might run minutes later.
      this.#fail(batch, new BackendError('unavailable', `Redis is unreachable: the client is ${status}`));
    }
  }

  #waitForReady(batch: BatchOp[]): void {
    const waiter: Waiter = { batch, from: 0, timer: undefined };
    const onTimer = () => {
      waiter.from = this.#expire(batch, waiter.from, this.#unreachable);
      if (waiter.from < batch.length) waiter.timer = setTimeout(onTimer, this.#msUntilDeadline(batch, waiter.from));
      else this.#waiters.delete(waiter);
    };
    waiter.timer = setTimeout(onTimer, this.#msUntilDeadline(batch, 0));
    this.#waiters.add(waiter);
    if (!this.#listeningForReady) {
      this.#listeningForReady = true;
      this.#client.once('ready', this.#onReady);
    }
  }

  readonly #onReady = (): void => {
    this.#listeningForReady = false;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      this.#dispatch(waiter.from === 0 ? waiter.batch : waiter.batch.slice(waiter.from));
    }
    this.#waiters.clear();
  };

  /** Milliseconds until the deadline of `batch[index]`. */
  #msUntilDeadline(batch: BatchOp[], index: number): number {
    return Math.max(0, (batch[index] as BatchOp).deadlineMs - performance.now());
  }

  /**
   * Fails, with `error`, the operations of `batch` from `from` on whose
   * deadline has passed, and returns the index of the first one still
   * running. Operations keep their submission order, so deadlines only grow
   * along a batch and each operation settles by its own deadline, not its
   * batch's oldest.
   */
  #expire(batch: BatchOp[], from: number, error: () => BackendError): number {
    // Timers have millisecond resolution: count a deadline within 1 ms as reached.
    const now = performance.now() + 1;
    let index = from;
    while (index < batch.length && (batch[index] as BatchOp).deadlineMs <= now) index++;
    if (index > from) this.#fail(batch.slice(from, index), error());
    return index;
  }

  // Errors are made only when an operation fails: capturing a stack costs more than a whole call.
  readonly #unreachable = () => new BackendError('unavailable', `Redis is unreachable: no connection within ${this.#timeoutMs} ms`);
  readonly #timedOut = () => new BackendError('timeout', `no answer from Redis within ${this.#timeoutMs} ms; the operation may or may not have taken effect`);

  #dispatch(all: BatchOp[]): void {
    // Held behind other calls past their deadline: fail those without sending them.
    const skipped = this.#expire(all, 0, this.#timedOut);
    if (skipped === all.length) return;
    const batch = skipped === 0 ? all : all.slice(skipped);
    this.#callsInFlight++;
    let done = false;
    let pendingFrom = 0;
    const finish = () => {
      done = true;
      this.#callsInFlight--;
      if (!this.#flushScheduled && this.#queue.length > 0) this.#flush();
    };
    const onTimer = () => {
      pendingFrom = this.#expire(batch, pendingFrom, this.#timedOut);
      if (pendingFrom < batch.length) timer = setTimeout(onTimer, this.#msUntilDeadline(batch, pendingFrom));
      else finish();
    };
    let timer = setTimeout(onTimer, this.#msUntilDeadline(batch, 0));
    const lone = batch.length === 1 ? this.#loneCommand(batch[0] as BatchOp) : undefined;
    (lone ?? this.#callScript(batch)).then(
      (reply) => {
        if (done) return;
        clearTimeout(timer);
        this.#deliver(batch, reply, pendingFrom, lone === undefined);
        finish();
      },
      (error: unknown) => {
        if (done) return;
        clearTimeout(timer);
        this.#fail(pendingFrom === 0 ? batch : batch.slice(pendingFrom), toBackendError(error));
        finish();
      },
    );
  }

  /**
   * A get or clear alone in its call needs nothing of the script: a plain GET
   * or DEL costs Redis a twentieth of a script call, which at low load is most
   * of an operation's time. A get still needs the server's time for the
   * seconds left: the last script reply's clock reading stands in for it while
   * it is recent, and only on a single node (Cluster nodes have clocks of
   * their own). Resolves to a reply shaped as the script's; undefined when the
   * operation needs the script.
   */
  #loneCommand(op: BatchOp): Promise<unknown[]> | undefined {
    if (op.code === OP.clear) return this.#client.del(op.key).then((deleted) => [0, deleted]);
    if (op.code !== OP.get || this.#bySlot || performance.now() - this.#serverClockReadAtMs > SERVER_CLOCK_READING_MAX_AGE_MS) return undefined;
    return this.#client.get(op.key).then((stored) => [performance.timeOrigin + performance.now() + this.#serverClockOffsetMs, stored]);
  }

  /** The batch script over `batch`: EVALSHA, and EVAL once when this node has not cached the script yet (first use, restart, promoted replica). */
  async #callScript(batch: BatchOp[]): Promise<unknown> {
    let codes = '';
    const keysAndArgs: string[] = [];
    for (const op of batch) {
      keysAndArgs.push(op.key);
      codes += op.code;
    }
    keysAndArgs.push(codes);
    for (const op of batch) for (const arg of op.args) keysAndArgs.push(arg);
    try {
      return await this.#client.evalsha(BATCH_SCRIPT_SHA, batch.length, ...keysAndArgs);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(BATCH_SCRIPT, batch.length, ...keysAndArgs);
    }
  }

  /** Hands each operation from `from` on its reply slot (those before `from` already timed out); a script's reply also updates the server clock reading. */
  #deliver(batch: BatchOp[], reply: unknown, from: number, fromScript: boolean): void {
    const serverNowMs = Array.isArray(reply) ? Number(reply[0]) : Number.NaN;
    if (!Array.isArray(reply) || reply.length !== batch.length + 1 || !Number.isFinite(serverNowMs)) {
      this.#fail(from === 0 ? batch : batch.slice(from), new BackendError('query_failed', 'Redis answered the batch script with an unexpected reply'));
      return;
    }
    if (fromScript && !this.#bySlot) {
      // The server read its clock before answering: this lags it by under one round trip.
      this.#serverClockReadAtMs = performance.now();
      this.#serverClockOffsetMs = serverNowMs - (performance.timeOrigin + this.#serverClockReadAtMs);
    }
    for (let i = from; i < batch.length; i++) {
      const op = batch[i] as BatchOp;
      const answer: unknown = reply[i + 1];
      try {
        if (answer instanceof Error) op.fail(toBackendError(answer));
        else op.settle(answer, serverNowMs);
      } catch (error) {
        op.fail(error instanceof BackendError ? error : toBackendError(error));
      }
    }
    this.#settled(batch.length - from);
  }

  #fail(batch: BatchOp[], error: BackendError): void {
    for (const op of batch) op.fail(error);
    this.#settled(batch.length);
  }

  #settled(count: number): void {
    this.#pendingOps -= count;
    if (this.#pendingOps === 0 && this.#idle.length > 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}

import { BackendError } from '../../core/errors.js';
import type { RedisClient } from './client.js';
import { isNoScript, toBackendError } from './errors.js';
import { BATCH_SCRIPT, BATCH_SCRIPT_SHA, replySlots, type OpCode } from './script.js';

/** One session operation waiting for its batch. */
export interface BatchOp {
  /** The Redis key the operation works on. */
  key: string;
  /** Cluster hash slot of `key` (0 on a single node, where slots do not matter). */
  slot: number;
  /** The operation's code in the batch script. */
  code: OpCode;
  /** The operation's arguments in the batch script's ARGV (none for get and clear). */
  args: readonly string[];
  /** Turns the operation's reply slots (the second is undefined unless it has two) into its result; may throw a `BackendError`. */
  settle(first: unknown, second: unknown): void;
  fail(error: BackendError): void;
}

/** Most operations in one script call, so that one call never blocks Redis for long. */
const MAX_OPS_PER_CALL = 128;
/** Most argument characters in one script call (large values get calls of their own). */
const MAX_CHARS_PER_CALL = 512 * 1024;

// Statuses in which ioredis is opening a connection: worth waiting for 'ready'.
const CONNECTING = new Set(['connecting', 'connect']);

interface Waiter {
  batch: BatchOp[];
  deadlineMs: number;
  timer: NodeJS.Timeout;
}

/**
 * Coalesces the operations issued in one tick into as few calls of the batch
 * script as the key layout allows: one call per batch on a single node, one
 * per hash slot on a Cluster (a script may only touch keys of one slot). Each
 * operation keeps its own result and its own error. Every call is bounded by
 * `timeoutMs`, whatever ioredis does with it (offline queue, retries).
 */
export class ScriptBatcher {
  readonly #client: RedisClient;
  readonly #timeoutMs: number;
  readonly #bySlot: boolean;
  #queue: BatchOp[] = [];
  #pendingOps = 0;
  #idle: (() => void)[] = [];
  readonly #waiters = new Set<Waiter>();
  #listeningForReady = false;

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
    if (this.#queue.push(op) === 1) process.nextTick(this.#flush);
  }

  /** Sends what is queued now, then resolves once every operation submitted so far has settled (within `timeoutMs`). */
  async drain(): Promise<void> {
    this.#flush();
    if (this.#pendingOps > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#listeningForReady && this.#waiters.size === 0) {
      this.#client.removeListener('ready', this.#onReady);
      this.#listeningForReady = false;
    }
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    if (!this.#bySlot) {
      this.#chunk(queue);
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

  #chunk(ops: BatchOp[]): void {
    let start = 0;
    let chars = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as BatchOp;
      let size = op.key.length + 1;
      for (const arg of op.args) size += arg.length;
      if (i > start && (i - start >= MAX_OPS_PER_CALL || chars + size > MAX_CHARS_PER_CALL)) {
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
      this.#dispatch(batch, this.#timeoutMs);
    } else if (CONNECTING.has(status)) {
      this.#waitForReady(batch);
    } else {
      // Known down (reconnecting, closed, ended): fail now rather than let
      // ioredis queue a write that might run minutes later.
      this.#fail(batch, new BackendError('unavailable', `Redis is unreachable: the client is ${status}`));
    }
  }

  #waitForReady(batch: BatchOp[]): void {
    const waiter: Waiter = {
      batch,
      deadlineMs: performance.now() + this.#timeoutMs,
      timer: setTimeout(() => {
        this.#waiters.delete(waiter);
        this.#fail(batch, new BackendError('unavailable', `Redis is unreachable: no connection within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs),
    };
    this.#waiters.add(waiter);
    if (!this.#listeningForReady) {
      this.#listeningForReady = true;
      this.#client.once('ready', this.#onReady);
    }
  }

  readonly #onReady = (): void => {
    this.#listeningForReady = false;
    const now = performance.now();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      this.#dispatch(waiter.batch, Math.max(1, waiter.deadlineMs - now));
    }
    this.#waiters.clear();
  };

  #dispatch(batch: BatchOp[], budgetMs: number): void {
    let codes = '';
    const keysAndArgs: string[] = [];
    for (const op of batch) {
      keysAndArgs.push(op.key);
      codes += op.code;
    }
    keysAndArgs.push(codes);
    for (const op of batch) for (const arg of op.args) keysAndArgs.push(arg);
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      this.#fail(batch, new BackendError('timeout', `no answer from Redis within ${this.#timeoutMs} ms; the operation may or may not have taken effect`));
    }, budgetMs);
    this.#call(batch.length, keysAndArgs).then(
      (reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#deliver(batch, reply);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#fail(batch, toBackendError(error));
      },
    );
  }

  /** EVALSHA, and EVAL once when this node has not cached the script yet (first use, restart, promoted replica). */
  async #call(numKeys: number, keysAndArgs: string[]): Promise<unknown> {
    try {
      return await this.#client.evalsha(BATCH_SCRIPT_SHA, numKeys, ...keysAndArgs);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(BATCH_SCRIPT, numKeys, ...keysAndArgs);
    }
  }

  #deliver(batch: BatchOp[], reply: unknown): void {
    let expected = 0;
    for (const op of batch) expected += replySlots(op.code);
    if (!Array.isArray(reply) || reply.length !== expected) {
      this.#fail(batch, new BackendError('query_failed', 'Redis answered the batch script with an unexpected reply'));
      return;
    }
    let slot = 0;
    for (const op of batch) {
      const first: unknown = reply[slot];
      const second: unknown = replySlots(op.code) === 2 ? reply[slot + 1] : undefined;
      slot += replySlots(op.code);
      try {
        if (first instanceof Error) op.fail(toBackendError(first));
        else op.settle(first, second);
      } catch (error) {
        op.fail(error instanceof BackendError ? error : toBackendError(error));
      }
    }
    this.#settled(batch.length);
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

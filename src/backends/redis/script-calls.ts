import { AFTER_IO, Batcher, type BatchCall } from '../../core/batcher.js';
import { BackendError } from '../../core/errors.js';
import type { ScriptClient } from './client.js';
import { isNoScript, toBackendError } from './errors.js';
import { BATCH_SCRIPT, BATCH_SCRIPT_SHA, OP, type OpCode } from './batch-script.js';

/** One operation of the batch script on one Redis key. */
export interface ScriptOp {
  /** The Redis key the operation works on. */
  key: string;
  /** Cluster hash slot of `key` (0 on a single node, where slots do not matter). */
  slot: number;
  /** The operation's code in the batch script. */
  code: OpCode;
  /** The operation's arguments in the batch script's ARGV (none for get and clear). */
  args: readonly string[];
  /** Turns the operation's reply slot into its result, given Redis's clock (ms) when the batch ran; may throw a `BackendError`, or hand back a promise of further work. */
  decode(reply: unknown, serverNowMs: number): unknown;
}

/** Most operations in one script call, so that one call never blocks Redis for long. */
export const MAX_BATCH_SIZE = 128;
/** Most argument characters in one script call (large values get calls of their own). */
export const MAX_BATCH_CHARS = 512 * 1024;
/**
 * Script calls in flight at once on a single node. Operations issued while
 * this many wait for an answer are held and sent together when one returns,
 * so batches grow with load (as ioredis's auto-pipelining does) while Node
 * prepares the next call as Redis runs the current one. On a Cluster, calls go
 * to different nodes by slot: no limit.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * How long a reading of the server's clock (from a script reply) stands in for
 * the server's time, in milliseconds. Past it, a lone get goes through the
 * script again, which reads the clock afresh.
 */
const SERVER_CLOCK_READING_MAX_AGE_MS = 10_000;

/**
 * Sends batches of {@link ScriptOp}s to Redis as calls of the batch script,
 * over the shared {@link Batcher} (queue, flush after I/O, in-flight limit,
 * per-slot batches on a Cluster, per-operation deadlines). What is Redis's
 * own: one call per batch (EVALSHA, EVAL when the node lacks the script), a
 * plain GET or DEL for an operation alone in its call, waiting for a
 * connection being opened, and failing at once when the client is known down.
 * Each operation keeps its own result and its own error.
 */
export class ScriptCalls {
  readonly #client: ScriptClient;
  readonly #timeoutMs: number;
  readonly #bySlot: boolean;
  readonly #batcher: Batcher<ScriptOp, unknown>;
  /** Server time minus local time (`performance.timeOrigin + performance.now()`), in ms, from the last script reply. */
  #serverClockOffsetMs = 0;
  /** When that offset was read, on the `performance.now()` clock; -Infinity: never. */
  #serverClockReadAtMs = Number.NEGATIVE_INFINITY;
  /** Batches waiting for the connection being opened, each with the resolver that sends it. */
  readonly #waitingForReady = new Set<() => void>();
  #listeningForReady = false;

  constructor(client: ScriptClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#bySlot = client.isCluster === true;
    this.#batcher = new Batcher<ScriptOp, unknown>((ops, call) => this.#call(ops, call), {
      maxBatchSize: MAX_BATCH_SIZE,
      maxBatchesInFlight: this.#bySlot ? Number.POSITIVE_INFINITY : MAX_BATCHES_IN_FLIGHT,
      maxBatchChars: MAX_BATCH_CHARS,
      charsOf: charsOf,
      spreadOverFreeSlots: true,
      timeoutMs,
      timeoutError: this.#timedOut,
      schedule: AFTER_IO,
      ...(this.#bySlot ? { partitionOf: slotOf } : {}),
    });
  }

  /** True when operations are grouped by hash slot (the client is a Cluster). */
  get bySlot(): boolean {
    return this.#bySlot;
  }

  /** Queues `op`; settles with its decoded reply or its error by `deadlineMs` (`performance.now()` clock). */
  submit(op: ScriptOp, deadlineMs: number): Promise<unknown> {
    return this.#batcher.submit(op, deadlineMs);
  }

  /** Sends what is queued now, then resolves once every operation submitted so far has settled (within `timeoutMs`). */
  async drain(): Promise<void> {
    await this.#batcher.drain();
    if (this.#listeningForReady && this.#waitingForReady.size === 0) {
      this.#client.offReady(this.#onReady);
      this.#listeningForReady = false;
    }
  }

  // Errors are made only when an operation fails: capturing a stack costs more than a whole call.
  readonly #unreachable = () => new BackendError('unavailable', `Redis is unreachable: no connection within ${this.#timeoutMs} ms`);
  readonly #timedOut = () => new BackendError('timeout', `no answer from Redis within ${this.#timeoutMs} ms; the operation may or may not have taken effect`);

  async #call(all: ScriptOp[], call: BatchCall): Promise<unknown[]> {
    let ops = all;
    const state = this.#client.state();
    if (state.kind === 'connecting') {
      // Operations that expire before the connection opens were never sent; they are not sent later either.
      call.expiryError = this.#unreachable;
      await this.#ready();
      call.expiryError = this.#timedOut;
      if (call.expired === all.length) return [];
      ops = all.slice(call.expired);
    } else if (state.kind === 'down') {
      // Known down (reconnecting, closed, ended): fail now rather than let
      // the client queue a write that might run minutes later.
      throw new BackendError('unavailable', `Redis is unreachable: the client is ${state.status}`);
    }
    const lone = ops.length === 1 ? this.#loneCommand(ops[0]!) : undefined;
    let reply: unknown;
    try {
      reply = await (lone ?? this.#callScript(ops));
    } catch (error) {
      throw toBackendError(error);
    }
    const answers = this.#decode(ops, reply, lone === undefined);
    // Answers line up with the whole batch; those of expired operations are ignored.
    return ops === all ? answers : new Array<unknown>(all.length - ops.length).concat(answers);
  }

  #ready(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waitingForReady.add(resolve);
      if (!this.#listeningForReady) {
        this.#listeningForReady = true;
        this.#client.onceReady(this.#onReady);
      }
    });
  }

  readonly #onReady = (): void => {
    this.#listeningForReady = false;
    for (const send of this.#waitingForReady) send();
    this.#waitingForReady.clear();
  };

  /**
   * A get or clear alone in its call needs nothing of the script: a plain GET
   * or DEL costs Redis a twentieth of a script call, which at low load is most
   * of an operation's time. A get still needs the server's time for the
   * seconds left: the last script reply's clock reading stands in for it while
   * it is recent, and only on a single node (Cluster nodes have clocks of
   * their own). Resolves to a reply shaped as the script's; undefined when the
   * operation needs the script.
   */
  #loneCommand(op: ScriptOp): Promise<unknown[]> | undefined {
    if (op.code === OP.clear) return this.#client.del(op.key).then((deleted) => [0, deleted]);
    if (op.code !== OP.get || this.#bySlot || performance.now() - this.#serverClockReadAtMs > SERVER_CLOCK_READING_MAX_AGE_MS) return undefined;
    return this.#client.get(op.key).then((stored) => [performance.timeOrigin + performance.now() + this.#serverClockOffsetMs, stored]);
  }

  /** The batch script over `ops`: EVALSHA, and EVAL once when this node has not cached the script yet (first use, restart, promoted replica). */
  async #callScript(ops: ScriptOp[]): Promise<unknown> {
    let codes = '';
    const keys: string[] = [];
    for (const op of ops) {
      keys.push(op.key);
      codes += op.code;
    }
    const args = [codes];
    for (const op of ops) for (const arg of op.args) args.push(arg);
    try {
      return await this.#client.evalsha(BATCH_SCRIPT_SHA, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(BATCH_SCRIPT, keys, args);
    }
  }

  /** Each operation's answer from its reply slot (an error for its own failure); a script's reply also updates the server clock reading. */
  #decode(ops: ScriptOp[], reply: unknown, fromScript: boolean): unknown[] {
    const serverNowMs = Array.isArray(reply) ? Number(reply[0]) : Number.NaN;
    if (!Array.isArray(reply) || reply.length !== ops.length + 1 || !Number.isFinite(serverNowMs)) {
      throw new BackendError('query_failed', 'Redis answered the batch script with an unexpected reply');
    }
    if (fromScript && !this.#bySlot) {
      // The server read its clock before answering: this lags it by under one round trip.
      this.#serverClockReadAtMs = performance.now();
      this.#serverClockOffsetMs = serverNowMs - (performance.timeOrigin + this.#serverClockReadAtMs);
    }
    const answers = new Array<unknown>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const answer: unknown = reply[i + 1];
      try {
        answers[i] = answer instanceof Error ? toBackendError(answer) : ops[i]!.decode(answer, serverNowMs);
      } catch (error) {
        answers[i] = error instanceof BackendError ? error : toBackendError(error);
      }
    }
    return answers;
  }
}

function slotOf(op: ScriptOp): number {
  return op.slot;
}

function charsOf(op: ScriptOp): number {
  let size = op.key.length + 1;
  for (const arg of op.args) size += arg.length;
  return size;
}

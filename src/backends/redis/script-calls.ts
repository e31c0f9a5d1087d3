import { setTimeout as sleep } from 'node:timers/promises';
import { AFTER_IO, Batcher, type BatchCall } from '../../core/batcher.js';
import { msUntil } from '../../core/deadline.js';
import { BackendError } from '../../core/errors.js';
import type { ScriptClient } from './client.js';
import { isNoScript, isReplyError, toBackendError } from './errors.js';
import { assertArguments, BATCH_SCRIPT, BATCH_SCRIPT_SHA, OP, type OpCode } from './batch-script.js';

/** One operation of the batch script on one Redis key. */
export interface ScriptOp {
  /** The Redis key the operation works on. */
  key: string;
  /** Cluster hash slot of `key` (0 on a single node, where slots do not matter). */
  slot: number;
  /** The operation's code in the batch script. */
  code: OpCode;
  /** The operation's arguments in the batch script's ARGV, as `OPERATIONS` declares them. */
  args: readonly string[];
  /**
   * A write whose outcome is exact (generate, put, set, compare-and-set, clear): it carries a write token or is
   * idempotent, the script refuses it past the batch's fence, and when its answer is lost it is settled by sending
   * it again; only when that fails by its deadline does it reject with `indeterminate`. Other operations are reads
   * or steps of owner operations, which may be sent again too.
   */
  exactWrite: boolean;
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

/** `performance.timeOrigin`, read once: it never changes. */
const TIME_ORIGIN_MS = performance.timeOrigin;

/** The error of an operation whose batch was sent and not answered by its deadline: `timeout` for a read, `indeterminate` for an exact write. */
class SentTimeout extends BackendError {}

/** A wait that ended before the promise it raced settled. */
const SILENT = Symbol('silent');
/** A connection closed while the promise raced was in flight. */
const LOST = Symbol('lost');

/**
 * Sends batches of {@link ScriptOp}s to Redis as calls of the batch script,
 * over the shared {@link Batcher} (queue, flush after I/O, in-flight limit,
 * per-slot batches on a Cluster, per-operation deadlines). What is Redis's
 * own: one call per batch (EVALSHA, EVAL when the node lacks the script), a
 * plain GET for a get alone in its call, waiting for a connection being
 * opened, and failing at once when the client is known down. Each operation
 * keeps its own result and its own error.
 *
 * Every outcome is exact (docs/decisions.md, "Every outcome is true: Redis"):
 * a batch carries a fence, the Redis time after which none of its writes may
 * land: its earliest deadline, on that node's clock as the last script reply
 * read it (the reading lags the server, so the fence errs early). When a sent
 * batch loses its connection, it is sent again once the client has
 * reconnected: a write that already landed finds its token and answers as it
 * did, one past the fence answers `late` and writes nothing. A connection
 * silent up to a batch's deadline is dropped, so the client opens a new one.
 * A write whose fate is still unknown at its deadline rejects with
 * `indeterminate`.
 */
export class ScriptCalls {
  readonly #client: ScriptClient;
  readonly #timeoutMs: number;
  readonly #bySlot: boolean;
  readonly #batcher: Batcher<ScriptOp, unknown>;
  /** Server time minus local time (`performance.timeOrigin + performance.now()`), in ms, from the last script reply of a single node. */
  #serverClockOffsetMs = 0;
  /** When that offset was read, on the `performance.now()` clock; -Infinity: never. */
  #serverClockReadAtMs = Number.NEGATIVE_INFINITY;
  /** On a Cluster, the same offset per hash slot (nodes have clocks of their own). */
  readonly #slotClockOffsetMs = new Map<number, number>();
  /** Batches waiting for the connection being opened, each with the resolver that sends it. */
  readonly #waitingForReady = new Set<() => void>();
  #listeningForReady = false;
  /** When this backend last dropped a silent connection (`performance.now()` clock); the client is reconnecting because of it. */
  #droppedAtMs = Number.NEGATIVE_INFINITY;

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
    assertArguments(op.code, op.args);
    const answer = this.#batcher.submit(op, deadlineMs);
    return op.exactWrite ? answer.catch(unsettled) : answer;
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
  readonly #unreachable = () => new BackendError('unavailable', `Redis is unreachable: no connection within ${this.#timeoutMs} ms; the operation was not sent`);
  readonly #timedOut = () => new BackendError('timeout', `no answer from Redis within ${this.#timeoutMs} ms; the operation was not sent`);
  readonly #sentTimedOut = () => new SentTimeout('timeout', `no answer from Redis within ${this.#timeoutMs} ms`);

  async #call(all: ScriptOp[], call: BatchCall): Promise<unknown[]> {
    const startedMs = performance.now();
    // The earliest deadline of the batch: its fence, and when a connection silent since the batch was sent is dropped.
    const deadlineMs = startedMs + call.budgetMs;
    const endMs = startedMs + this.#timeoutMs;
    const slot = all[0]!.slot;
    let ops = all;
    const state = this.#client.state();
    const reconnectingAfterDrop = state.kind === 'down' && state.status === 'reconnecting' && startedMs - this.#droppedAtMs < this.#timeoutMs;
    if (state.kind === 'connecting' || reconnectingAfterDrop) {
      // Operations that expire before the connection opens were never sent; they are not sent later either.
      call.expiryError = startedMs - this.#droppedAtMs < this.#timeoutMs ? this.#timedOut : this.#unreachable;
      await this.#readyBy(deadlineMs, endMs, slot);
      if (call.expired === all.length) return [];
      if (this.#client.state().kind !== 'ready') throw call.expiryError();
      call.expiryError = this.#timedOut;
      ops = all.slice(call.expired);
    } else if (state.kind === 'down') {
      // Known down (reconnecting, closed, ended): fail now rather than wait for a server that went away.
      throw new BackendError('unavailable', `Redis is unreachable: the client is ${state.status}; the operation was not sent`);
    }
    const fence = this.#fence(slot, deadlineMs);
    // From here the batch is sent: an operation whose deadline passes before its answer has an unknown fate.
    call.expiryError = this.#sentTimedOut;
    const lone = ops.length === 1 ? this.#loneGet(ops[0]!) : undefined;
    const sending = lone ?? this.#callScript(ops, fence);
    let reply: unknown;
    try {
      reply = await raceUntil(sending, deadlineMs, this.#client.onConnectionLost);
    } catch (error) {
      if (isReplyError(error) || !ops.some(isExactWrite)) throw toBackendError(error);
      // The connection died with the batch in flight (ioredis with autoResendUnfulfilledCommands: false, node-redis).
      return this.#resend(all, call, fence, endMs, slot);
    }
    // The connection closed under the batch, and the client will neither resend nor reject it.
    if (reply === LOST) return this.#resend(all, call, fence, endMs, slot);
    if (reply === SILENT) {
      // Silent up to the deadline: a hung server, or a black hole that no FIN will ever end. Drop the connection
      // so the client opens a new one; the operations still running go on when it is ready.
      this.#drop(slot);
      if (ops.some(isExactWrite)) return this.#resend(all, call, fence, endMs, slot);
      try {
        reply = await raceUntil(sending, endMs);
      } catch (error) {
        throw toBackendError(error);
      }
      if (reply === SILENT) throw this.#sentTimedOut();
    }
    const answers = this.#decode(ops, reply, lone === undefined, false, fence);
    // Answers line up with the whole batch; those of expired operations are ignored.
    return ops === all ? answers : new Array<unknown>(all.length - ops.length).concat(answers);
  }

  /**
   * A sent batch lost its answer: send what has not expired again, same
   * tokens, same fence, as soon as the client is ready, until an answer comes
   * or the last deadline passes. A write that landed finds its token; one
   * past the fence answers `late`.
   */
  async #resend(all: ScriptOp[], call: BatchCall, fence: string, endMs: number, slot: number): Promise<unknown[]> {
    for (;;) {
      await this.#readyBy(endMs, endMs, slot);
      if (call.expired === all.length || performance.now() >= endMs || this.#client.state().kind !== 'ready') throw this.#sentTimedOut();
      const ops = all.slice(call.expired);
      let reply: unknown;
      try {
        reply = await raceUntil(this.#callScript(ops, fence), endMs, this.#client.onConnectionLost);
      } catch (error) {
        if (isReplyError(error)) throw toBackendError(error);
        reply = LOST;
      }
      if (reply === LOST) {
        await sleep(Math.min(20, msUntil(endMs)));
        continue;
      }
      if (reply === SILENT) {
        this.#drop(slot);
        throw this.#sentTimedOut();
      }
      const answers = this.#decode(ops, reply, true, true, fence);
      return new Array<unknown>(all.length - ops.length).concat(answers);
    }
  }

  #drop(slot: number): void {
    this.#droppedAtMs = performance.now();
    this.#client.dropConnection(slot);
  }

  /** Resolves once the client is ready, or at `endMs`; a connection still not ready at `dropAtMs` is dropped (a black hole accepts and never answers). */
  async #readyBy(dropAtMs: number, endMs: number, slot: number): Promise<void> {
    if (this.#client.state().kind === 'ready') return;
    const ready = this.#ready();
    if ((await raceUntil(ready, dropAtMs)) !== SILENT) return;
    if (dropAtMs < endMs) {
      this.#drop(slot);
      await raceUntil(ready, endMs);
    }
  }

  /** The fence of a batch for `slot` whose writes must not land after `deadlineMs` (local clock): Redis time in ms, or '' when no clock reading of that node exists yet. */
  #fence(slot: number, deadlineMs: number): string {
    const offset = this.#bySlot ? this.#slotClockOffsetMs.get(slot) : this.#serverClockReadAtMs === Number.NEGATIVE_INFINITY ? undefined : this.#serverClockOffsetMs;
    if (offset === undefined) return '';
    // The offset was read lagging the server by up to a round trip: the fence errs early, never late.
    return String(Math.floor(TIME_ORIGIN_MS + deadlineMs + offset));
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
   * A get alone in its call needs nothing of the script: a plain GET costs
   * Redis a twentieth of a script call, which at low load is most of an
   * operation's time. It still needs the server's time for the seconds left:
   * the last script reply's clock reading stands in for it while it is
   * recent, and only on a single node (Cluster nodes have clocks of their
   * own). Resolves to a reply shaped as the script's; undefined when the
   * operation needs the script. (A clear goes through the script: only there
   * does the fence keep it from landing after its deadline.)
   */
  #loneGet(op: ScriptOp): Promise<unknown[]> | undefined {
    if (op.code !== OP.get || this.#bySlot || performance.now() - this.#serverClockReadAtMs > SERVER_CLOCK_READING_MAX_AGE_MS) return undefined;
    return this.#client.get(op.key).then((stored) => [TIME_ORIGIN_MS + performance.now() + this.#serverClockOffsetMs, stored]);
  }

  /** The batch script over `ops`: EVALSHA, and EVAL once when this node has not cached the script yet (first use, restart, promoted replica). */
  async #callScript(ops: ScriptOp[], fence: string): Promise<unknown> {
    let codes = '';
    const keys: string[] = [];
    for (const op of ops) {
      keys.push(op.key);
      codes += op.code;
    }
    const args = [codes, fence];
    for (const op of ops) for (const arg of op.args) args.push(arg);
    try {
      return await this.#client.evalsha(BATCH_SCRIPT_SHA, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(BATCH_SCRIPT, keys, args);
    }
  }

  /**
   * Each operation's answer from its reply slot (an error for its own
   * failure); a script's reply also updates the server clock reading. `late`
   * is a write refused past the fence: not applied, and never will be. A
   * resent batch without a fence cannot rule out that the first copy of a
   * compare-and-set lands later: its `conflict` or `NotFound` is reported as
   * `indeterminate`.
   */
  #decode(ops: ScriptOp[], reply: unknown, fromScript: boolean, resent: boolean, fence: string): unknown[] {
    const serverNowMs = Array.isArray(reply) ? Number(reply[0]) : Number.NaN;
    if (!Array.isArray(reply) || reply.length !== ops.length + 1 || !Number.isFinite(serverNowMs)) {
      throw new BackendError('query_failed', 'Redis answered the batch script with an unexpected reply');
    }
    if (fromScript) {
      // The server read its clock before answering: this lags it by under one round trip.
      const readAtMs = performance.now();
      const offset = serverNowMs - (TIME_ORIGIN_MS + readAtMs);
      if (this.#bySlot) {
        this.#slotClockOffsetMs.set(ops[0]!.slot, offset);
      } else {
        this.#serverClockReadAtMs = readAtMs;
        this.#serverClockOffsetMs = offset;
      }
    }
    const answers = new Array<unknown>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const answer: unknown = reply[i + 1];
      const op = ops[i]!;
      if (op.exactWrite && answer === 'late') {
        answers[i] = new BackendError('timeout', 'Redis received the write after its deadline: it was not applied, and will not be');
        continue;
      }
      if (op.exactWrite && resent && fence === '' && (answer === 'conflict' || answer === 'NotFound')) {
        answers[i] = new BackendError('indeterminate', 'the reply of a compare-and-set was lost and Redis found another value when it was sent again: the first copy may still land');
        continue;
      }
      try {
        answers[i] = answer instanceof Error ? toBackendError(answer) : op.decode(answer, serverNowMs);
      } catch (error) {
        answers[i] = error instanceof BackendError ? error : toBackendError(error);
      }
    }
    return answers;
  }
}

/** An exact write whose batch was sent and not answered by its deadline: its fate is unknown. */
function unsettled(error: unknown): never {
  if (error instanceof SentTimeout) {
    throw new BackendError('indeterminate', `${error.message}, and its fate could not be learned in time: it may have been applied (once)`, { cause: error });
  }
  throw error;
}

function isExactWrite(op: ScriptOp): boolean {
  return op.exactWrite;
}

/**
 * `promise`'s value; {@link SILENT} if it has not settled by `atMs`
 * (`performance.now()` clock); {@link LOST} if a connection closes first
 * (`onLost`). Every batch races once: one promise and one timer, not
 * `Promise.race`'s promise per racer.
 */
function raceUntil<T>(promise: Promise<T>, atMs: number, onLost?: (listener: () => void) => () => void): Promise<T | typeof SILENT | typeof LOST> {
  return new Promise<T | typeof SILENT | typeof LOST>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const end = (): void => {
      clearTimeout(timer);
      unsubscribe?.();
    };
    promise.then(
      (value) => {
        end();
        resolve(value);
      },
      (error: unknown) => {
        end();
        reject(error);
      },
    );
    if (onLost !== undefined) {
      unsubscribe = onLost(() => {
        end();
        resolve(LOST);
      });
    }
    const silent = (): void => {
      end();
      resolve(SILENT);
    };
    const waitMs = msUntil(atMs);
    // Past the deadline already: a promise settled by now still wins, since its reaction was queued first.
    if (waitMs > 0) timer = setTimeout(silent, waitMs);
    else queueMicrotask(silent);
  });
}

function slotOf(op: ScriptOp): number {
  return op.slot;
}

function charsOf(op: ScriptOp): number {
  let size = op.key.length + 1;
  for (const arg of op.args) size += arg.length;
  return size;
}

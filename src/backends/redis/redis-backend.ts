import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions } from '../../core/base-backend.js';
import type { CompareAndSetResult, GetResult } from '../../core/contract.js';
import { BackendError } from '../../core/errors.js';
import { digestKey } from '../../core/keys.js';
import { assertWholeNumberOption } from '../../core/validate.js';
import { ScriptBatcher } from './batcher.js';
import { isRedisClient, type RedisClient } from './client.js';
import { decodeStored, encodeValue, OP, type OpCode } from './script.js';
import { slotOfTag } from './slot.js';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions extends BackendOptions {
  /** Put before every session's Redis key, to share a database with other data; default `'sessionkit:'`. Must not contain `{` or `}` (they would change the key's hash slot). */
  prefix?: string;
  /** Store the SHA-256 digest of each key (`digestKey`) instead of the key, so a dump of Redis holds no usable cookie; default `true`. */
  hashKeys?: boolean;
  /** Longest wait for Redis, in milliseconds, before an operation rejects with a `BackendError` (`timeout` or `unavailable`); default 5000. */
  timeoutMs?: number;
}

/** The answers the batch script gives for compare-and-set. */
const CAS_RESULTS: ReadonlySet<unknown> = new Set<CompareAndSetResult>(['ok', 'conflict', 'NotFound']);

/**
 * Sessions in Redis or Redis Cluster, through an ioredis client the caller
 * creates and keeps (`close()` leaves it open).
 *
 * Each session is one Redis string under `${prefix}{${digestKey(key)}}` (or
 * the key itself with `hashKeys: false`); the braces make the key its own hash
 * tag, so everything about one session lives in one Cluster slot. The string
 * is the session's expiry instant (Redis server time in ms) followed by
 * nothing for "not set" or by `=` + value; the key's TTL ends at that same
 * instant, so Redis itself drops expired sessions and a read is one GET. Every operation is
 * one round trip: concurrent operations issued in the same turn of the event
 * loop share one call of a Lua batch script (per hash slot on a Cluster), each
 * keeping its own result and error. `set` uses `SET XX`, so it never creates
 * nor revives a session; `compareAndSet` is atomic in the script.
 *
 * Failures reject with a {@link BackendError}: `unavailable` (connection down,
 * cluster failing over), `timeout` (no answer within `timeoutMs`; the write may
 * or may not have happened) or `query_failed` (Redis answered with an error).
 * Service resumes by itself once ioredis has reconnected.
 */
export class RedisBackend extends BaseBackend {
  /** The prefix of every Redis key this backend writes. */
  readonly prefix: string;
  /** Whether keys are stored as their SHA-256 digest. */
  readonly hashKeys: boolean;
  /** Longest wait for Redis per operation, in milliseconds. */
  readonly timeoutMs: number;
  readonly #batcher: ScriptBatcher;
  #closed = false;

  /** Throws a `TypeError` when `client` is not an ioredis client or an option is invalid. */
  constructor(client: RedisClient, options: RedisBackendOptions = {}) {
    super(options);
    if (!isRedisClient(client)) throw new TypeError('RedisBackend needs an ioredis Redis or Cluster client');
    const { prefix = 'sessionkit:', hashKeys = true, timeoutMs = 5000 } = options;
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError('prefix must be a string without "{" or "}"');
    if (typeof hashKeys !== 'boolean') throw new TypeError('hashKeys must be a boolean');
    assertWholeNumberOption(timeoutMs, 'timeoutMs', 1);
    this.prefix = prefix;
    this.hashKeys = hashKeys;
    this.timeoutMs = timeoutMs;
    this.#batcher = new ScriptBatcher(client, timeoutMs);
  }

  /**
   * The Redis key that holds the session of `key`: `${prefix}{${digest}}`.
   * For inspection and tests; the backend computes it itself.
   */
  redisKey(key: string): string {
    return `${this.prefix}{${this.hashKeys ? digestKey(key) : key}}`;
  }

  /** Names this store in events: `redis:` and the key prefix. */
  protected override get storeName(): string {
    return `redis:${this.prefix}`;
  }

  /** Stops accepting operations (they reject with `closed`) and waits for those in flight; the ioredis client stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#batcher.drain();
  }

  protected storeGenerate(key: string, value: string | null, expirySeconds: number): Promise<void> {
    // An expiry <= 0 makes a session that is already gone: nothing to store.
    if (expirySeconds <= 0) return this.#closed ? Promise.reject(closedError()) : Promise.resolve();
    return this.#run(key, OP.generate, [encodeValue(value), String(expirySeconds)], ignore);
  }

  protected storeGet(key: string): Promise<GetResult> {
    return this.#run(key, OP.get, NO_ARGS, decodeGet);
  }

  protected storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    if (expirySeconds <= 0) return this.storeClear(key);
    return this.#run(key, OP.set, [encodeValue(value), String(expirySeconds)], ignore);
  }

  protected storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    return this.#run(key, OP.compareAndSet, [encodeValue(expected), encodeValue(value), String(expirySeconds)], decodeCompareAndSet);
  }

  protected storeClear(key: string): Promise<void> {
    return this.#run(key, OP.clear, NO_ARGS, ignore);
  }

  #run<T>(key: string, code: OpCode, args: readonly string[], decode: (reply: unknown, serverNowMs: number) => T): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const tag = this.hashKeys ? digestKey(key) : key;
    return new Promise<T>((resolve, reject) => {
      this.#batcher.submit({
        key: `${this.prefix}{${tag}}`,
        slot: this.#batcher.bySlot ? slotOfTag(tag) : 0,
        deadlineMs: performance.now() + this.timeoutMs,
        code,
        args,
        settle: (reply, serverNowMs) => resolve(decode(reply, serverNowMs)),
        fail: reject,
      });
    });
  }
}

const NO_ARGS: readonly string[] = [];

function ignore(): void {}

function decodeGet(stored: unknown, serverNowMs: number): GetResult {
  if (stored === null || stored === false || stored === undefined) return NOT_FOUND;
  const session = typeof stored === 'string' ? decodeStored(stored) : undefined;
  if (session === undefined) throw new BackendError('query_failed', 'the Redis key of this session holds a value sessionkit did not write');
  if (session.value === null) return NOT_SET;
  // Whole seconds left, rounded as every backend does; never negative.
  return { ok: true, value: session.value, period: Math.max(0, Math.round((session.expiresAtMs - serverNowMs) / 1000)) };
}

function decodeCompareAndSet(answer: unknown): CompareAndSetResult {
  if (CAS_RESULTS.has(answer)) return answer as CompareAndSetResult;
  throw new BackendError('query_failed', 'Redis answered compare-and-set with an unexpected reply');
}

function closedError(): BackendError {
  return new BackendError('closed', 'the RedisBackend was closed');
}

import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions, type KeyStorageOptions } from '../../core/base-backend.js';
import { secondsLeft } from '../../core/period.js';
import type { ClearByOwnerOptions, CompareAndSetResult, GetResult, OwnedSession, OwnerIndexBackend, OwnerIndexOptions } from '../../core/contract.js';
import { BackendError } from '../../core/errors.js';
import { newWriteToken } from '../../core/keys.js';
import { assertWholeNumberOption } from '../../core/validate.js';
import { toScriptClient, type RedisClient } from './client.js';
import { decodePeek, ignore, NO_ARGS, RedisOwnerIndex, type Decode } from './owner-index.js';
import { ScriptCalls, type ScriptOp } from './script-calls.js';
import { OP, type OpCode } from './batch-script.js';
import { decodeStored, encodeValue, ownerTag } from './stored-value.js';
import { slotOfTag } from './slot.js';
import type { EnumerableBackend, LiveSession } from '../../core/enumeration.js';
import { literalPattern, masterNodes, scanKeys, sendWithin, serverNowMs, type NodeCommand } from './key-scan.js';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions extends BackendOptions, KeyStorageOptions, OwnerIndexOptions {
  /** Put before every session's Redis key, to share a database with other data; default `'sessionkit:'`. Must not contain `{` or `}` (they would change the key's hash slot). */
  prefix?: string;
  /**
   * Longest wait for Redis, in milliseconds, before an operation rejects with a `BackendError` (`timeout`,
   * `unavailable`, or for a write whose fate could not be learned, `indeterminate`); default 5000. Owner operations
   * that walk an owner's sessions in pages give each step this long.
   */
  timeoutMs?: number;
}

/** What {@link RedisBackend.sessionOwner} finds of a live session: its owner's digest (`null`: no owner) and when it was made. */
export interface SessionOwnerDigest {
  ownerDigest: string | null;
  createdAt: Date | null;
}

/** The answers the batch script gives for compare-and-set. */
const CAS_RESULTS: ReadonlySet<unknown> = new Set<CompareAndSetResult>(['ok', 'conflict', 'NotFound']);

/**
 * Sessions in Redis or Redis Cluster, through an ioredis or node-redis
 * client the caller creates, connects and keeps (`close()` leaves it open).
 *
 * Each session is one Redis string under `${prefix}{${digestKey(key)}}` (or
 * the key itself with `hashKeys: false`); the braces make the key its own hash
 * tag, so everything about one session lives in one Cluster slot. The string
 * is the session's expiry instant (Redis server time in ms) followed by
 * nothing for "not set" or by `=` + value; the key's TTL ends at that same
 * instant, so Redis itself drops expired sessions and a read is one GET. Every operation is
 * one round trip: concurrent operations issued in the same turn of the event
 * loop share calls of a Lua batch script (per hash slot on a Cluster), each
 * keeping its own result and error; a get or clear alone in its call is a
 * plain GET or DEL (docs/redis.md). `set` uses `SET XX`, so it never creates
 * nor revives a session; `compareAndSet` is atomic in the script.
 *
 * Sessions by owner (`generate({ owner })`, `listByOwner`, `clearByOwner`,
 * `maxSessionsPerOwner`) are kept in a sorted set per owner: see
 * {@link RedisOwnerIndex} and docs/redis.md.
 *
 * Failures reject with a {@link BackendError}: `unavailable` (connection down,
 * cluster failing over), `timeout` (no answer within `timeoutMs`), `query_failed`
 * (Redis answered with an error), each meaning for a write "not applied, and
 * never will be", or `indeterminate` (a write sent whose fate could not be
 * learned by its deadline: it may have been applied, once). Every write carries
 * a write token and every script call a fence, so a write whose reply was lost
 * is sent again and answers what happened (docs/decisions.md, "Every outcome
 * is true: Redis"). A connection silent past a deadline is dropped. Service
 * resumes by itself once the client has reconnected.
 */
export class RedisBackend extends BaseBackend implements OwnerIndexBackend, EnumerableBackend {
  /** The prefix of every Redis key this backend writes. */
  readonly prefix: string;
  /** Longest wait for Redis per operation, in milliseconds. */
  readonly timeoutMs: number;
  readonly #calls: ScriptCalls;
  readonly #owners: RedisOwnerIndex;
  readonly #client: RedisClient;
  #closed = false;

  /** Throws a `TypeError` when `client` is neither an ioredis nor a node-redis client, or an option is invalid. */
  constructor(client: RedisClient, options: RedisBackendOptions = {}) {
    super(options, { hashKeys: options.hashKeys });
    const scriptClient = toScriptClient(client);
    this.#client = client;
    const { prefix = 'sessionkit:', timeoutMs = 5000 } = options;
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError('prefix must be a string without "{" or "}"');
    assertWholeNumberOption(timeoutMs, 'timeoutMs', 1);
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
    this.#calls = new ScriptCalls(scriptClient, timeoutMs);
    this.#owners = new RedisOwnerIndex(
      {
        onSession: (storedKey, code, args, deadlineMs, decode) => this.#queue(storedKey, '', code, args, deadlineMs, decode),
        onOwnerSet: (tag, code, args, deadlineMs, decode) => this.#queue(tag, OWNER_SET_INFIX, code, args, deadlineMs, decode),
        digestOfStored: (storedKey) => this.digestOfStored(storedKey),
        reportTrimFailure: (error) => this.emit({ type: 'error', store: this.storeName, during: 'generate', error }),
      },
      { maxSessionsPerOwner: this.maxSessionsPerOwner, policy: this.onMaxSessionsPerOwner },
    );
  }

  /**
   * The Redis key that holds the session of `key`: `${prefix}{${digest}}`.
   * For inspection and tests; the backend computes it itself.
   */
  redisKey(key: string): string {
    return `${this.prefix}{${this.storedKey(key)}}`;
  }

  /** Names this store in events: `redis:` and the key prefix. */
  protected override get storeName(): string {
    return `redis:${this.prefix}`;
  }

  /** Stops accepting operations (they reject with `closed`) and waits for those in flight; the ioredis client stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#calls.drain();
  }

  /** The owner's live sessions, oldest first, read a page of the owner's set at a time (each step within `timeoutMs`). */
  listByOwner(owner: string): Promise<OwnedSession[]> {
    return this.ownerList(owner, (checked) => this.#owners.list(ownerTag(checked), this.timeoutMs));
  }

  /**
   * Removes the owner's live sessions (but `except`), a page of the owner's set at a time, each step within
   * `timeoutMs`; resolves to how many were live. One that rejects may have removed part of them: call it again.
   */
  clearByOwner(owner: string, options?: ClearByOwnerOptions): Promise<number> {
    return this.ownerClear(owner, options, (checked, except) => this.#owners.clear(ownerTag(checked), except === undefined ? undefined : this.storedKey(except), this.timeoutMs));
  }

  clearOwnedSession(owner: string, keyDigest: string): Promise<boolean> {
    return this.ownerClearOne(owner, keyDigest, (checked, digest) => this.#owners.clearOne(ownerTag(checked), digest, this.timeoutMs));
  }

  /** How many sessions are live: SCAN of `${prefix}{*}` on every master, owner sets left out. */
  countLive(): Promise<number> {
    return this.reported('countLive', this.#countLive());
  }

  async #countLive(): Promise<number> {
    let count = 0;
    for (const node of await this.#nodes()) for await (const keys of this.#sessionKeys(node)) count += keys.length;
    return count;
  }

  /**
   * Every live session, master by master, one SCAN reply (about a thousand
   * keys) at a time, each read with GET. A key under the prefix that holds
   * something sessionkit did not write is not a session and is left out.
   */
  async *liveSessions(): AsyncIterable<LiveSession> {
    const start = this.prefix.length + 1;
    for (const node of await this.reported('liveSessions', this.#nodes())) {
      for await (const keys of this.#sessionKeys(node)) {
        const [nowMs, ...stored] = await this.reported('liveSessions', Promise.all([serverNowMs(node, this.timeoutMs), ...keys.map((key) => sendWithin(node, ['GET', key], this.timeoutMs))]));
        for (const [i, key] of keys.entries()) {
          const session = typeof stored[i] === 'string' ? decodeStored(stored[i]) : undefined;
          if (session === undefined || session.expiresAtMs <= (nowMs as number)) continue;
          yield { storedKey: key.slice(start, -1), value: session.value, expiresInSeconds: secondsLeft(session.expiresAtMs, nowMs as number) };
        }
      }
    }
  }

  /** Deletes every session key and owner set under the prefix (SCAN then DEL, on every master); resolves to how many sessions went. */
  clearAll(): Promise<number> {
    return this.pruning('clearAll', () => this.#clearAll());
  }

  async #clearAll(): Promise<number> {
    let cleared = 0;
    for (const node of await this.#nodes()) {
      for (const pattern of [this.#sessionPattern, `${literalPattern(this.prefix + OWNER_SET_INFIX)}{*}`]) {
        for await (const keys of scanKeys(node, pattern, this.timeoutMs)) {
          // One DEL per key: on a Cluster the keys of one reply span many slots.
          const removed = await Promise.all(keys.map((key) => sendWithin(node, ['DEL', key], this.timeoutMs)));
          if (pattern === this.#sessionPattern) cleared += removed.reduce<number>((sum, n) => sum + Number(n), 0);
        }
      }
    }
    return cleared;
  }

  /**
   * For operators (`sessionkit inspect`): the owner's digest (`digestKey(owner)`:
   * Redis keeps no owner id) of the live session of `key`, `null` for a
   * session without owner, and its creation time, the score in its owner's
   * set (`null` without owner). Undefined when no live session has that key.
   */
  sessionOwner(key: string): Promise<SessionOwnerDigest | undefined> {
    return this.withKey('sessionOwner', key, undefined, (checked) => this.#sessionOwner(checked));
  }

  async #sessionOwner(key: string): Promise<SessionOwnerDigest | undefined> {
    const deadlineMs = performance.now() + this.timeoutMs;
    const storedKey = this.storedKey(key);
    const { head, serverNowMs } = await this.#queue(storedKey, '', OP.peek, NO_ARGS, deadlineMs, decodePeek);
    if (head === undefined || head.expiresAtMs <= serverNowMs) return undefined;
    if (head.ownerTag === undefined) return { ownerDigest: null, createdAt: null };
    const keyDigest = this.digestOfStored(storedKey);
    const listed = (await this.#owners.list(head.ownerTag, this.timeoutMs)).find((session) => session.keyDigest === keyDigest);
    return { ownerDigest: head.ownerTag, createdAt: listed?.createdAt ?? null };
  }

  /**
   * For operators (`sessionkit stats`), in one SCAN of every master: how
   * many sessions are live and the bytes their keys take (`MEMORY USAGE` of
   * each; a key gone since the scan is neither), and the servers'
   * `used_memory` summed over the masters.
   */
  storageBytes(): Promise<{ sessionCount: number; sessionBytes: number; serverUsedMemoryBytes: number }> {
    return this.reported('storageBytes', this.#storageBytes());
  }

  async #storageBytes(): Promise<{ sessionCount: number; sessionBytes: number; serverUsedMemoryBytes: number }> {
    let sessionCount = 0;
    let sessionBytes = 0;
    let serverUsedMemoryBytes = 0;
    for (const node of await this.#nodes()) {
      for await (const keys of this.#sessionKeys(node)) {
        // A key gone since the scan answers nil: it is no session any more.
        const sizes = await Promise.all(keys.map((key) => sendWithin(node, ['MEMORY', 'USAGE', key], this.timeoutMs)));
        for (const bytes of sizes) {
          if (typeof bytes !== 'number') continue;
          sessionCount++;
          sessionBytes += bytes;
        }
      }
      const info = await sendWithin(node, ['INFO', 'memory'], this.timeoutMs);
      const usedMemory = /^used_memory:(\d+)/m.exec(String(info))?.[1];
      if (usedMemory !== undefined) serverUsedMemoryBytes += Number(usedMemory);
    }
    return { sessionCount, sessionBytes, serverUsedMemoryBytes };
  }

  /** Matches the session keys of this prefix and nothing else: `${prefix}{…}`, never `${prefix}owner:{…}`. */
  get #sessionPattern(): string {
    return `${literalPattern(this.prefix)}{*}`;
  }

  /**
   * The session keys of `node`, one SCAN reply at a time, each key once (SCAN may repeat a key while Redis
   * rehashes). TYPE string: a set or hash under the prefix is no session (and a GET of it would fail).
   */
  async *#sessionKeys(node: NodeCommand): AsyncGenerator<string[]> {
    const seen = new Set<string>();
    for await (const page of scanKeys(node, this.#sessionPattern, this.timeoutMs, 'string')) {
      const keys = page.filter((key) => !seen.has(key));
      keys.forEach((key) => seen.add(key));
      yield keys;
    }
  }

  async #nodes(): Promise<NodeCommand[]> {
    if (this.#closed) throw closedError();
    return masterNodes(this.#client);
  }

  /**
   * Creates or replaces the session of `key` (see {@link Backend.put}):
   * one plain `SET … PXAT` in the batch script, as `generate` writes. A
   * replaced owned session loses its owner head, so it leaves its owner's
   * list (the stale entry is dropped when an owner operation meets it).
   */
  protected storePut(key: string, value: string, expirySeconds: number): Promise<void> {
    return expirySeconds <= 0 ? this.storeClear(key) : this.#create(key, value, expirySeconds);
  }

  protected storeGenerate(key: string, value: string | null, expirySeconds: number, owner?: string): Promise<void> {
    // An expiry <= 0 makes a session that is already gone: nothing to store.
    if (expirySeconds <= 0) return this.#closed ? Promise.reject(closedError()) : Promise.resolve();
    if (owner === undefined) return this.#create(key, value, expirySeconds);
    if (this.#closed) return Promise.reject(closedError());
    return this.#owners.generate(this.storedKey(key), value, expirySeconds, ownerTag(owner), newWriteToken(), performance.now() + this.timeoutMs);
  }

  /** A plain SET of a session without owner: `generate` and `put`. */
  #create(key: string, value: string | null, expirySeconds: number): Promise<void> {
    return this.#onKey(key, OP.generate, [encodeValue(value), String(expirySeconds), newWriteToken()], ignore);
  }

  protected storeGet(key: string): Promise<GetResult> {
    return this.#onKey(key, OP.get, NO_ARGS, decodeGet);
  }

  protected storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    if (expirySeconds <= 0) return this.storeClear(key);
    // The same token if the write goes again after extending the owner set: the first one wrote nothing.
    const args = [encodeValue(value), String(expirySeconds), newWriteToken()];
    return this.#onKey(key, OP.set, args, ignore, (tag, deadlineMs) =>
      this.#owners.extendThenWrite(this.storedKey(key), tag, expirySeconds, deadlineMs, OP.setCovered, args, ignore),
    );
  }

  protected storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    const args = [encodeValue(expected), encodeValue(value), String(expirySeconds), newWriteToken()];
    return this.#onKey(key, OP.compareAndSet, args, decodeCompareAndSet, (tag, deadlineMs) =>
      this.#owners.extendThenWrite(this.storedKey(key), tag, expirySeconds, deadlineMs, OP.compareAndSetCovered, args, decodeCompareAndSet),
    );
  }

  protected storeClear(key: string): Promise<void> {
    // An owned session's entry stays in its owner's set until a listByOwner, clearByOwner or owned generate drops it.
    return this.#onKey(key, OP.clear, NO_ARGS, ignore);
  }

  /** An operation on the session of a caller's `key`, due within `timeoutMs` from now. */
  #onKey<T>(key: string, code: OpCode, args: readonly string[], decode: Decode<T>, onOwned?: (ownerTag: string, deadlineMs: number) => Promise<T>): Promise<T> {
    return this.#queue(this.storedKey(key), '', code, args, performance.now() + this.timeoutMs, decode, onOwned);
  }

  /**
   * Queues one operation on `${prefix}${infix}{${tag}}` for the next script
   * call. A reply `@` + owner tag (a write that needs its owner set extended
   * first) goes to `onOwned` when given; only owned sessions ever answer so.
   */
  #queue<T>(tag: string, infix: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>, onOwned?: (ownerTag: string, deadlineMs: number) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const op: ScriptOp = {
      key: `${this.prefix}${infix}{${tag}}`,
      slot: this.#calls.bySlot ? slotOfTag(tag) : 0,
      code,
      args,
      exactWrite: EXACT_WRITES.has(code),
      decode:
        onOwned === undefined
          ? decode
          : (reply, serverNowMs) => (typeof reply === 'string' && reply.charCodeAt(0) === AT ? onOwned(reply.slice(1), deadlineMs) : decode(reply, serverNowMs)),
    };
    return this.#calls.submit(op, deadlineMs) as Promise<T>;
  }
}

/** Owner sets live under `${prefix}owner:{${ownerTag}}`: never `${prefix}{…}`, the shape of a session key. */
const OWNER_SET_INFIX = 'owner:';
const AT = '@'.charCodeAt(0);
/** Operations whose outcome is exact: see `ScriptOp.exactWrite`. */
const EXACT_WRITES: ReadonlySet<OpCode> = new Set<OpCode>([OP.generate, OP.generateOwned, OP.set, OP.setCovered, OP.compareAndSet, OP.compareAndSetCovered, OP.clear]);

function decodeGet(stored: unknown, serverNowMs: number): GetResult {
  if (stored === null || stored === false || stored === undefined) return NOT_FOUND;
  const session = typeof stored === 'string' ? decodeStored(stored) : undefined;
  if (session === undefined) throw new BackendError('query_failed', 'the Redis key of this session holds a value sessionkit did not write');
  if (session.value === null) return NOT_SET;
  return { ok: true, value: session.value, period: secondsLeft(session.expiresAtMs, serverNowMs) };
}

function decodeCompareAndSet(answer: unknown): CompareAndSetResult {
  if (CAS_RESULTS.has(answer)) return answer as CompareAndSetResult;
  throw new BackendError('query_failed', 'Redis answered compare-and-set with an unexpected reply');
}

function closedError(): BackendError {
  return new BackendError('closed', 'the RedisBackend was closed');
}

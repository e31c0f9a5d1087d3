import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions } from '../../core/base-backend.js';
import type { ClearByOwnerOptions, CompareAndSetResult, GetResult, OwnedSession, OwnerIndexBackend, OwnerIndexOptions, PutBackend, SetOptions } from '../../core/contract.js';
import { BackendError, isBackendError } from '../../core/errors.js';
import { digestKey } from '../../core/keys.js';
import { assertKeyIsString, assertOwner, assertWholeNumberOption } from '../../core/validate.js';
import { ScriptCalls, type ScriptOp } from './script-calls.js';
import { isRedisClient, type RedisClient } from './client.js';
import { decodeStored, encodeValue, OP, OWNER_SET_MARGIN_MS, ownerTag, type OpCode, type StoredSession } from './script.js';
import { slotOfTag } from './slot.js';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions extends BackendOptions, OwnerIndexOptions {
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
 * loop share calls of a Lua batch script (per hash slot on a Cluster), each
 * keeping its own result and error; a get or clear alone in its call is a
 * plain GET or DEL (docs/redis.md). `set` uses `SET XX`, so it never creates
 * nor revives a session; `compareAndSet` is atomic in the script.
 *
 * Sessions by owner (`generate({ owner })`, `listByOwner`, `clearByOwner`,
 * `maxSessionsPerOwner`): each owner has a sorted set
 * `${prefix}owner:{${ownerTag}}` of its sessions' tags scored by creation
 * time, and an owned session's string names its owner's tag. The owner set
 * is written before the session and emptied after it, and outlives every
 * session in it (a renewal past what it covers extends it first), so a live
 * session is always listed; entries of sessions that are gone are dropped when
 * an owner operation meets them. Owner work costs round trips proportional to
 * that owner's sessions, and nothing for sessions without an owner. See
 * docs/redis.md.
 *
 * Failures reject with a {@link BackendError}: `unavailable` (connection down,
 * cluster failing over), `timeout` (no answer within `timeoutMs`; the write may
 * or may not have happened) or `query_failed` (Redis answered with an error).
 * Service resumes by itself once ioredis has reconnected.
 */
export class RedisBackend extends BaseBackend implements OwnerIndexBackend, PutBackend {
  /** The prefix of every Redis key this backend writes. */
  readonly prefix: string;
  /** Whether keys are stored as their SHA-256 digest. */
  readonly hashKeys: boolean;
  /** Longest wait for Redis per operation, in milliseconds. */
  readonly timeoutMs: number;
  /** Most live sessions per owner; a new owned session beyond it removes the owner's oldest. `undefined`: no limit. */
  readonly maxSessionsPerOwner: number | undefined;
  readonly #calls: ScriptCalls;
  #closed = false;

  /** Throws a `TypeError` when `client` is not an ioredis client or an option is invalid. */
  constructor(client: RedisClient, options: RedisBackendOptions = {}) {
    super(options);
    if (!isRedisClient(client)) throw new TypeError('RedisBackend needs an ioredis Redis or Cluster client');
    const { prefix = 'sessionkit:', hashKeys = true, timeoutMs = 5000, maxSessionsPerOwner } = options;
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError('prefix must be a string without "{" or "}"');
    if (typeof hashKeys !== 'boolean') throw new TypeError('hashKeys must be a boolean');
    assertWholeNumberOption(timeoutMs, 'timeoutMs', 1);
    if (maxSessionsPerOwner !== undefined) assertWholeNumberOption(maxSessionsPerOwner, 'maxSessionsPerOwner', 1);
    this.maxSessionsPerOwner = maxSessionsPerOwner;
    this.prefix = prefix;
    this.hashKeys = hashKeys;
    this.timeoutMs = timeoutMs;
    this.#calls = new ScriptCalls(client, timeoutMs);
  }

  /**
   * The Redis key that holds the session of `key`: `${prefix}{${digest}}`.
   * For inspection and tests; the backend computes it itself.
   */
  redisKey(key: string): string {
    return `${this.prefix}{${this.hashKeys ? digestKey(key) : key}}`;
  }

  /**
   * The Redis key of the sorted set that lists the sessions of `owner`:
   * `${prefix}owner:{${ownerTag(owner)}}`, the owner's SHA-256 digest as hash
   * tag (no owner id is stored in Redis). For inspection and tests.
   */
  ownerSetKey(owner: string): string {
    assertOwner(owner);
    return `${this.prefix}${OWNER_SET_INFIX}{${ownerTag(owner)}}`;
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

  async listByOwner(owner: string): Promise<OwnedSession[]> {
    assertOwner(owner);
    return this.#reportedOwnerWork('listByOwner', async () => {
      const deadlineMs = performance.now() + this.timeoutMs;
      const tag = ownerTag(owner);
      const members = await this.#ownerSet(tag, OP.ownerList, NO_ARGS, deadlineMs, decodeMembers);
      const heads = await this.#peek(members, deadlineMs);
      const sessions: OwnedSession[] = [];
      const dead: string[] = [];
      members.forEach(({ member, createdAtMs }, i) => {
        const { head, serverNowMs } = heads[i] as Peeked;
        if (head?.ownerTag !== tag || head.expiresAtMs <= serverNowMs) {
          dead.push(member);
          return;
        }
        sessions.push({
          keyDigest: this.hashKeys ? member : digestKey(member),
          expiresInSeconds: Math.max(0, Math.round((head.expiresAtMs - serverNowMs) / 1000)),
          createdAt: new Date(createdAtMs),
        });
      });
      // Tidying only: the answer above is right whether or not this write gets through.
      if (dead.length > 0) await this.#ownerSet(tag, OP.ownerRemove, [String(dead.length), ...dead], deadlineMs, ignore).catch(ignore);
      return sessions;
    });
  }

  async clearByOwner(owner: string, options: ClearByOwnerOptions = {}): Promise<number> {
    assertOwner(owner);
    const { except } = options;
    if (except !== undefined) assertKeyIsString(except);
    return this.#reportedOwnerWork('clearByOwner', async () => {
      const started = performance.now();
      const deadlineMs = started + this.timeoutMs;
      const tag = ownerTag(owner);
      const kept = except === undefined ? undefined : this.#tagOf(except);
      const members = await this.#ownerSet(tag, OP.ownerList, NO_ARGS, deadlineMs, decodeMembers);
      const targets = members.filter(({ member }) => member !== kept).map(({ member }) => member);
      const cleared = await this.#deleteOwned(tag, targets, deadlineMs);
      this.emit({ type: 'pruned', store: this.storeName, deletedCount: cleared, durationMs: performance.now() - started });
      return cleared;
    });
  }

  /**
   * Creates or replaces the session of `key` (see {@link PutBackend.put}):
   * one plain `SET … PXAT` in the batch script, as `generate` writes. A
   * replaced owned session loses its owner head, so it leaves its owner's
   * list (the stale entry is dropped when an owner operation meets it).
   */
  put(key: string, value: string, options: SetOptions = {}): Promise<void> {
    return this.checkedPut(key, value, options, this.#storePut);
  }

  #storePut(key: string, value: string, expirySeconds: number): Promise<void> {
    if (expirySeconds <= 0) return this.storeClear(key);
    return this.#run(key, OP.generate, [encodeValue(value), String(expirySeconds)], ignore);
  }

  protected storeGenerate(key: string, value: string | null, expirySeconds: number, owner?: string): Promise<void> {
    // An expiry <= 0 makes a session that is already gone: nothing to store.
    if (expirySeconds <= 0) return this.#closed ? Promise.reject(closedError()) : Promise.resolve();
    if (owner !== undefined) return this.#generateOwned(key, value, expirySeconds, owner);
    return this.#run(key, OP.generate, [encodeValue(value), String(expirySeconds)], ignore);
  }

  protected storeGet(key: string): Promise<GetResult> {
    return this.#run(key, OP.get, NO_ARGS, decodeGet);
  }

  protected storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    if (expirySeconds <= 0) return this.storeClear(key);
    const args = [encodeValue(value), String(expirySeconds)];
    return this.#run(key, OP.set, args, ignore, (tag, deadlineMs) => this.#coverThen(key, tag, expirySeconds, deadlineMs, OP.setCovered, args, ignore));
  }

  protected storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    const args = [encodeValue(expected), encodeValue(value), String(expirySeconds)];
    return this.#run(key, OP.compareAndSet, args, decodeCompareAndSet, (tag, deadlineMs) =>
      this.#coverThen(key, tag, expirySeconds, deadlineMs, OP.compareAndSetCovered, args, decodeCompareAndSet),
    );
  }

  protected storeClear(key: string): Promise<void> {
    // An owned session's entry stays in its owner's set until a listByOwner, clearByOwner or owned generate drops it.
    return this.#run(key, OP.clear, NO_ARGS, ignore);
  }

  /**
   * Owner set first, session second: a session is never live without its
   * entry. With `maxSessionsPerOwner`, the owner's oldest live sessions beyond
   * the limit go next (and entries of gone sessions with them).
   */
  async #generateOwned(key: string, value: string | null, expirySeconds: number, owner: string): Promise<void> {
    const deadlineMs = performance.now() + this.timeoutMs;
    const tag = ownerTag(owner);
    const member = this.#tagOf(key);
    const limit = this.maxSessionsPerOwner;
    const ttl = String(ownerSetTtlMs(expirySeconds));
    const listed = await this.#ownerSet(tag, OP.ownerAdd, [member, ttl, limit === undefined ? '0' : '1'], deadlineMs, limit === undefined ? noMembers : decodeMembers);
    await this.#session(member, OP.generateOwned, [encodeValue(value), String(expirySeconds), tag], deadlineMs, ignore);
    if (limit === undefined) return;
    const others = listed.filter((entry) => entry.member !== member);
    if (others.length < limit) return;
    const heads = await this.#peek(others, deadlineMs);
    const live: string[] = [];
    const dead: string[] = [];
    others.forEach(({ member: other }, i) => {
      const { head, serverNowMs } = heads[i] as Peeked;
      if (head?.ownerTag === tag && head.expiresAtMs > serverNowMs) live.push(other);
      else dead.push(other);
    });
    // Oldest first: keep the newest limit - 1 besides the new session.
    const excess = live.slice(0, Math.max(0, live.length - (limit - 1)));
    if (excess.length > 0) await this.#deleteOwned(tag, excess, deadlineMs);
    else if (dead.length > 0) await this.#ownerSet(tag, OP.ownerRemove, [String(dead.length), ...dead], deadlineMs, ignore);
  }

  /**
   * A set or compare-and-set whose new expiry would outlive what its owner's
   * set is known to cover: extend the owner set (re-adding the entry if it
   * was lost), then write, recording the new cover.
   */
  async #coverThen<T>(key: string, tag: string, expirySeconds: number, deadlineMs: number, code: OpCode, args: readonly string[], decode: Decode<T>): Promise<T> {
    const member = this.#tagOf(key);
    await this.#ownerSet(tag, OP.ownerExtend, [member, String(ownerSetTtlMs(expirySeconds))], deadlineMs, ignore);
    return this.#session(member, code, args, deadlineMs, decode);
  }

  /** Deletes those of `members` that are live sessions of the owner, then their entries; resolves to how many were live. */
  async #deleteOwned(tag: string, members: readonly string[], deadlineMs: number): Promise<number> {
    if (members.length === 0) return 0;
    // Sessions first, entries second: a listed session that is already gone is filtered, never the reverse.
    const deleted = await Promise.all(members.map((member) => this.#session(member, OP.deleteOwned, [tag], deadlineMs, toCount)));
    await this.#ownerSet(tag, OP.ownerRemove, [String(members.length), ...members], deadlineMs, ignore);
    return deleted.reduce((sum, count) => sum + count, 0);
  }

  /** The first bytes of each member's session, each with the clock of the node that read it. */
  #peek(members: readonly OwnerEntry[], deadlineMs: number): Promise<Peeked[]> {
    return Promise.all(members.map(({ member }) => this.#session(member, OP.peek, NO_ARGS, deadlineMs, decodePeek)));
  }

  /** The hash tag (and owner set member) of a session: its digest, or the key itself with `hashKeys: false`. */
  #tagOf(key: string): string {
    return this.hashKeys ? digestKey(key) : key;
  }

  #run<T>(key: string, code: OpCode, args: readonly string[], decode: Decode<T>, onOwned?: (ownerTag: string, deadlineMs: number) => Promise<T>): Promise<T> {
    return this.#submit(this.#tagOf(key), '', code, args, performance.now() + this.timeoutMs, decode, onOwned);
  }

  #session<T>(member: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>): Promise<T> {
    return this.#submit(member, '', code, args, deadlineMs, decode);
  }

  #ownerSet<T>(tag: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>): Promise<T> {
    return this.#submit(tag, OWNER_SET_INFIX, code, args, deadlineMs, decode);
  }

  /**
   * Queues one operation on `${prefix}${infix}{${tag}}`. A reply `@` + owner
   * tag (a write that needs its owner set extended first) goes to `onOwned`
   * when given; only owned sessions ever answer so.
   */
  #submit<T>(tag: string, infix: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>, onOwned?: (ownerTag: string, deadlineMs: number) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const op: ScriptOp = {
      key: `${this.prefix}${infix}{${tag}}`,
      slot: this.#calls.bySlot ? slotOfTag(tag) : 0,
      code,
      args,
      decode:
        onOwned === undefined
          ? decode
          : (reply, serverNowMs) => (typeof reply === 'string' && reply.charCodeAt(0) === AT ? onOwned(reply.slice(1), deadlineMs) : decode(reply, serverNowMs)),
    };
    return this.#calls.submit(op, deadlineMs) as Promise<T>;
  }

  /** Reports a failure of owner work as an `error` event (as the base class does for the other operations), then rethrows it. */
  async #reportedOwnerWork<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (this.hasListener && isBackendError(error)) this.emit({ type: 'error', store: this.storeName, during: operation, error });
      throw error;
    }
  }
}

type Decode<T> = (reply: unknown, serverNowMs: number) => T;

/** An owner set's entry: a session's tag and when the session was made (owner node's clock, ms). */
interface OwnerEntry {
  member: string;
  createdAtMs: number;
}

/** A session's head as a peek found it (`undefined`: missing or not ours), with the reading node's clock. */
interface Peeked {
  head: StoredSession | undefined;
  serverNowMs: number;
}

/** Owner sets live under `${prefix}owner:{${ownerTag}}`: never `${prefix}{…}`, the shape of a session key. */
const OWNER_SET_INFIX = 'owner:';
const AT = '@'.charCodeAt(0);

/** How long an owner set must live after a session of `expirySeconds` is written or renewed. */
function ownerSetTtlMs(expirySeconds: number): number {
  return 2 * expirySeconds * 1000 + OWNER_SET_MARGIN_MS;
}

function decodeMembers(reply: unknown): OwnerEntry[] {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new BackendError('query_failed', 'Redis answered an owner set read with an unexpected reply');
  const entries: OwnerEntry[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const member: unknown = reply[i];
    const createdAtMs = Number(reply[i + 1]);
    if (typeof member !== 'string' || !Number.isFinite(createdAtMs)) throw new BackendError('query_failed', 'the owner set holds an entry sessionkit did not write');
    entries.push({ member, createdAtMs });
  }
  return entries;
}

function noMembers(): OwnerEntry[] {
  return [];
}

function decodePeek(reply: unknown, serverNowMs: number): Peeked {
  return { head: typeof reply === 'string' && reply !== '' ? decodeStored(reply) : undefined, serverNowMs };
}

function toCount(reply: unknown): number {
  return reply === 1 ? 1 : 0;
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

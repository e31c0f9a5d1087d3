import type { OwnedSession, OwnerLimitPolicy } from '../../core/contract.js';
import { secondsLeft } from '../../core/period.js';
import { BackendError, OwnerSessionLimitError } from '../../core/errors.js';
import { OP, type OpCode } from './batch-script.js';
import { decodeStored, encodeValue, OWNER_SET_MARGIN_MS, type DecodedString } from './stored-value.js';

/** Turns an operation's reply slot into its result, given Redis's clock (ms) when the batch ran. */
export type Decode<T> = (reply: unknown, serverNowMs: number) => T;

/** The operations the owner index sends, through the backend's batches. */
export interface OwnerIndexStore {
  /** An operation on the session whose stored key (digest) is `storedKey`. */
  onSession<T>(storedKey: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>): Promise<T>;
  /** An operation on the sorted set of the owner whose tag is `tag`. */
  onOwnerSet<T>(tag: string, code: OpCode, args: readonly string[], deadlineMs: number, decode: Decode<T>): Promise<T>;
  /** The digest a listing names a session by, from its stored key. */
  digestOfStored(storedKey: string): string;
  /** Reports a failure of the trim after a login that was stored (the login resolves: it was stored). */
  reportTrimFailure(error: unknown): void;
}

/** The owner limit a {@link RedisOwnerIndex} keeps: `undefined` for none. */
export interface OwnerLimit {
  maxSessionsPerOwner: number | undefined;
  policy: OwnerLimitPolicy;
}

/** Reservations tried by a login refused at the limit, each after removing the entries of sessions found gone. */
const REFUSE_ATTEMPTS = 3;

/** Entries of an owner set read per step (one ZRANGE), and sessions peeked or deleted per step. */
export const OWNER_PAGE_SIZE = 1000;

/**
 * Sessions by owner in Redis: each owner has a sorted set
 * `${prefix}owner:{${ownerTag}}` of its sessions' stored keys scored by
 * creation time, and an owned session's string names its owner's tag. The
 * owner set is written before the session and emptied after it, and outlives
 * every session in it (a renewal past what it covers extends it first), so a
 * live session is always listed; entries of sessions that are gone are
 * dropped when an owner operation meets them. Costs round trips proportional
 * to that owner's sessions, nothing for sessions without an owner.
 *
 * Listing and clearing walk the set a page of {@link OWNER_PAGE_SIZE} entries
 * at a time, each page its own steps with its own deadline (`stepMs` from the
 * step's start), so no Redis call holds the server for long and an owner of a
 * million sessions is worked through to the end. The walk stops at the
 * entries that existed when it began (scored up to Redis's time at the first
 * page): a session made meanwhile is a login after the call.
 */
export class RedisOwnerIndex {
  readonly #store: OwnerIndexStore;
  readonly #limit: OwnerLimit;

  constructor(store: OwnerIndexStore, limit: OwnerLimit) {
    this.#store = store;
    this.#limit = limit;
  }

  /** The owner's live sessions with their values, oldest first; drops entries of sessions that are gone (tidying, best effort). */
  async list(tag: string, stepMs: number): Promise<OwnedSession[]> {
    const sessions: OwnedSession[] = [];
    for await (const { entries, readAtMs } of this.#pages(tag, stepMs)) {
      // Whole strings, not heads: the listing reports each value, in the same batched script calls.
      const { live, dead } = await this.#classify(tag, entries, OP.get, performance.now() + stepMs);
      for (const { entry, head, serverNowMs } of live) {
        sessions.push({
          keyDigest: this.#store.digestOfStored(entry.member),
          expiresInSeconds: secondsLeft(head.expiresAtMs, serverNowMs),
          createdAt: new Date(entry.createdAtMs),
          value: head.value,
        });
      }
      // Tidying only: the answer above is right whether or not this write gets through.
      await this.#tidy(tag, dead, readAtMs, performance.now() + stepMs).catch(ignore);
    }
    return sessions;
  }

  /** Removes every live session of the owner but `keptMember`; resolves to how many were live. */
  async clear(tag: string, keptMember: string | undefined, stepMs: number): Promise<number> {
    let cleared = 0;
    for await (const { entries } of this.#pages(tag, stepMs)) {
      const targets = entries.filter(({ member }) => member !== keptMember).map(({ member }) => member);
      cleared += await this.#deleteOwned(tag, targets, performance.now() + stepMs);
    }
    return cleared;
  }

  /** Removes the owner's session whose digest is `keyDigest`, if the owner's set lists it; true when it was live. */
  async clearOne(tag: string, keyDigest: string, stepMs: number): Promise<boolean> {
    // Only a member of this owner's set is removed: a digest of another owner's session finds nothing here.
    for await (const { entries } of this.#pages(tag, stepMs)) {
      const target = entries.find(({ member }) => this.#store.digestOfStored(member) === keyDigest);
      if (target !== undefined) return (await this.#deleteOwned(tag, [target.member], performance.now() + stepMs)) > 0;
    }
    return false;
  }

  /**
   * The owner set's entries, a page at a time, oldest first, up to those that
   * existed at the first page. Each page starts after the last entry of the
   * one before (found again by the script whether or not it was removed since).
   */
  async *#pages(tag: string, stepMs: number): AsyncGenerator<OwnerEntries> {
    let cap = '';
    let after: OwnerEntry | undefined;
    for (;;) {
      const args = [after === undefined ? '' : after.score, after === undefined ? '' : after.member, cap, String(OWNER_PAGE_SIZE)];
      const page = await this.#store.onOwnerSet(tag, OP.ownerPage, args, performance.now() + stepMs, decodePage);
      if (cap === '') cap = String(page.readAtMs);
      if (page.entries.length > 0) yield page;
      if (page.entries.length < OWNER_PAGE_SIZE) return;
      after = page.entries.at(-1);
    }
  }

  /**
   * Owner set first, session second: a session is never live without its
   * entry. With a limit, the owner set is where logins of one owner meet (one
   * script call at a time on its slot, a Cluster's included): its entries are
   * never fewer than the owner's live sessions, and a login's entry stays
   * pending (counted, never taken for gone) until its session is written.
   * `'refuse'` adds the entry only while the set has room, after removing the
   * entries of sessions found gone, and otherwise rejects with an
   * {@link OwnerSessionLimitError} having written nothing. `'end-oldest'` adds
   * it, writes the session, then ends the owner's oldest live sessions beyond
   * the limit; the last login of a burst to get there sees every session
   * written, so none of them leaves more than the limit live. That trim comes
   * after the login was stored: its failure is reported, not thrown.
   */
  async generate(member: string, value: string | null, expirySeconds: number, tag: string, token: string, deadlineMs: number): Promise<void> {
    const { maxSessionsPerOwner: limit, policy } = this.#limit;
    const ttl = String(ownerSetTtlMs(expirySeconds));
    const write = () => this.#store.onSession(member, OP.generateOwned, [encodeValue(value), String(expirySeconds), tag, token], deadlineMs, ignore);
    if (limit === undefined) {
      await this.#store.onOwnerSet(tag, OP.ownerAdd, [member, ttl, '', ''], deadlineMs, ignore);
      return write();
    }
    // Pending for as long as the session's write may still land: up to its deadline (the script fences later writes).
    const pendingMs = String(pendingWindowMs(Math.max(0, deadlineMs - performance.now())));
    const cap = policy === 'refuse' ? String(limit) : '';
    for (let attempt = 1; ; attempt++) {
      const full = await this.#store.onOwnerSet(tag, OP.ownerAdd, [member, ttl, cap, pendingMs], deadlineMs, decodeReservation);
      if (full === undefined) break;
      const { dead } = await this.#classify(tag, full.entries, OP.peek, deadlineMs);
      if (dead.length === 0 || attempt === REFUSE_ATTEMPTS) throw new OwnerSessionLimitError(limit);
      await this.#tidy(tag, dead, full.readAtMs, deadlineMs);
    }
    await write();
    const trimAt = policy === 'end-oldest' ? String(limit) : '';
    try {
      const written = await this.#store.onOwnerSet(tag, OP.ownerWritten, [member, trimAt, pendingMs], deadlineMs, decodePage);
      if (written.entries.length === 0) return;
      const { live, dead } = await this.#classify(tag, written.entries, OP.peek, deadlineMs);
      // Oldest first: keep the newest `limit`, this login's among them unless newer logins came at once.
      const excess = live.slice(0, Math.max(0, live.length - limit)).map(({ entry }) => entry.member);
      if (excess.length > 0) await this.#deleteOwned(tag, excess, deadlineMs);
      await this.#tidy(tag, dead, written.readAtMs, deadlineMs);
    } catch (error) {
      this.#store.reportTrimFailure(error);
    }
  }

  /** Removes the entries of sessions found gone, but those written since `readAtMs` or still pending (see `OP.ownerTidy`). */
  async #tidy(tag: string, dead: readonly string[], readAtMs: number, deadlineMs: number): Promise<void> {
    if (dead.length > 0) await this.#store.onOwnerSet(tag, OP.ownerTidy, [String(dead.length), String(readAtMs), ...dead], deadlineMs, ignore);
  }

  /**
   * Reads each entry's session (`OP.peek`: its first bytes, enough for the head; `OP.get`: the whole string) and
   * sorts the entries, oldest first, into the owner's live sessions, with what was read, and the members of sessions
   * that are gone.
   */
  async #classify(tag: string, entries: readonly OwnerEntry[], code: typeof OP.peek | typeof OP.get, deadlineMs: number): Promise<{ live: LiveEntry[]; dead: string[] }> {
    const heads = await Promise.all(entries.map(({ member }) => this.#store.onSession(member, code, NO_ARGS, deadlineMs, decodePeek)));
    const live: LiveEntry[] = [];
    const dead: string[] = [];
    entries.forEach((entry, i) => {
      const { head, serverNowMs } = heads[i]!;
      if (head?.ownerTag === tag && head.expiresAtMs > serverNowMs) live.push({ entry, head, serverNowMs });
      else dead.push(entry.member);
    });
    return { live, dead };
  }

  /**
   * A set or compare-and-set whose new expiry would outlive what its owner's
   * set is known to cover: extend the owner set (re-adding the entry if it
   * was lost), then write with `code`, recording the new cover.
   */
  async extendThenWrite<T>(member: string, tag: string, expirySeconds: number, deadlineMs: number, code: OpCode, args: readonly string[], decode: Decode<T>): Promise<T> {
    await this.#store.onOwnerSet(tag, OP.ownerExtend, [member, String(ownerSetTtlMs(expirySeconds))], deadlineMs, ignore);
    return this.#store.onSession(member, code, args, deadlineMs, decode);
  }

  /** Deletes those of `members` that are live sessions of the owner, then their entries; resolves to how many were live. */
  async #deleteOwned(tag: string, members: readonly string[], deadlineMs: number): Promise<number> {
    if (members.length === 0) return 0;
    // Sessions first, entries second: a listed session that is already gone is filtered, never the reverse.
    const deleted = await Promise.all(members.map((member) => this.#store.onSession(member, OP.deleteOwned, [tag], deadlineMs, toCount)));
    await this.#store.onOwnerSet(tag, OP.ownerRemove, [String(members.length), ...members], deadlineMs, ignore);
    return deleted.reduce((sum, count) => sum + count, 0);
  }
}

/** An owner set's entry: a session's stored key and when the session was made (owner node's clock, ms; `score` as Redis wrote it). */
interface OwnerEntry {
  member: string;
  createdAtMs: number;
  score: string;
}

/** A session's head as a peek found it (`undefined`: missing or not ours), with the reading node's clock. */
export interface Peeked {
  head: DecodedString | undefined;
  serverNowMs: number;
}

/** An entry whose session is live, as read, with the clock of the node that read it. */
interface LiveEntry {
  entry: OwnerEntry;
  head: DecodedString;
  serverNowMs: number;
}

/** The arguments of an operation that takes none. */
export const NO_ARGS: readonly string[] = [];

/**
 * How long a login's entry stays pending, given the time left to its deadline: its session's write is
 * fenced at that deadline, twice over and with the owner set's margin for the clocks of a Cluster's nodes.
 */
function pendingWindowMs(timeLeftMs: number): number {
  return Math.ceil(2 * timeLeftMs) + OWNER_SET_MARGIN_MS;
}

/** How long an owner set must live after a session of `expirySeconds` is written or renewed. */
function ownerSetTtlMs(expirySeconds: number): number {
  return 2 * expirySeconds * 1000 + OWNER_SET_MARGIN_MS;
}

/** Entries of an owner set, with the owner node's clock when they were read. */
interface OwnerEntries {
  entries: OwnerEntry[];
  readAtMs: number;
}

/** An owner set's entries as the script answers them (member, score, …). */
function decodePage(reply: unknown, serverNowMs: number): OwnerEntries {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new BackendError('query_failed', 'Redis answered an owner set read with an unexpected reply');
  const entries: OwnerEntry[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const member: unknown = reply[i];
    const createdAtMs = Number(reply[i + 1]);
    if (typeof member !== 'string' || !Number.isFinite(createdAtMs)) throw new BackendError('query_failed', 'the owner set holds an entry sessionkit did not write');
    entries.push({ member, createdAtMs, score: String(reply[i + 1]) });
  }
  return { entries, readAtMs: serverNowMs };
}

/** An owner set add's answer: undefined when added, else the entries (not pending) of the full set. */
function decodeReservation(reply: unknown, serverNowMs: number): OwnerEntries | undefined {
  return reply === 1 ? undefined : decodePage(reply, serverNowMs);
}

/** A peek's reply (`OP.peek`, or `OP.get`'s whole string): the session's head, if it is one sessionkit wrote. */
export function decodePeek(reply: unknown, serverNowMs: number): Peeked {
  return { head: typeof reply === 'string' && reply !== '' ? decodeStored(reply) : undefined, serverNowMs };
}

function toCount(reply: unknown): number {
  return reply === 1 ? 1 : 0;
}

/** The decoder of an operation whose reply says nothing (a write that resolves was applied). */
export function ignore(): void {}

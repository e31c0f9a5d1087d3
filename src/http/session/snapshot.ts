import { encodeEnvelope, utf8Bytes, type DataRecord, type Envelope } from '../envelope.js';
import { SessionDataTooLargeError } from '../session-errors.js';
import type { StoreContext } from './store-context.js';

/** An envelope as a write gives it, before {@link encodeWithin} stamps when and by which client it was written. */
export type UnstampedEnvelope = Omit<Envelope, 'lastSeenAtMs' | 'userAgent' | 'clientAddress'>;

/**
 * A session as one request last read or wrote it under its key: the value the
 * next compare-and-set expects (`raw`) and what it decodes to. Immutable: a
 * read or a write replaces the whole snapshot, so its eight fields never
 * disagree.
 */
export interface StoredSnapshot {
  readonly key: string;
  /** The stored value, byte for byte (the compare-and-set's expected value). */
  readonly raw: string;
  readonly data: DataRecord;
  /** Owner filed with the key (fixed per key), undefined for an anonymous session. */
  readonly owner: string | undefined;
  readonly createdAtMs: number;
  /** When the store will expire it, as known in this request (wall clock). */
  readonly expiresAtMs: number;
  /** Its own idle period from `setExpirySeconds` (the envelope's `ownPeriodSeconds`); undefined: the configured one. */
  readonly ownExpirySeconds: number | undefined;
  /** When the user last authenticated (the envelope's `authenticatedAtMs`); undefined: unknown. */
  readonly authenticatedAtMs?: number | undefined;
}

/** No stored session: what a request without one (or after `destroy()`) starts from. */
export interface EmptySnapshot {
  readonly key: undefined;
  readonly raw: undefined;
  readonly data: DataRecord;
  readonly owner: undefined;
  readonly createdAtMs: undefined;
  readonly expiresAtMs: undefined;
  readonly ownExpirySeconds: undefined;
  readonly authenticatedAtMs?: undefined;
}

/** Either a stored session or none; test `key` to tell them apart. */
export type Snapshot = StoredSnapshot | EmptySnapshot;

/** The one empty snapshot (its data is frozen: the overlay copies before it changes anything). */
export const EMPTY_SNAPSHOT: EmptySnapshot = Object.freeze({
  key: undefined,
  raw: undefined,
  data: Object.freeze({}) as DataRecord,
  owner: undefined,
  createdAtMs: undefined,
  expiresAtMs: undefined,
  ownExpirySeconds: undefined,
  authenticatedAtMs: undefined,
});

/** The snapshot of `raw` (already decoded as `envelope`) stored under `key`, which had `secondsLeft` at `nowMs`. */
export function storedSnapshot(key: string, raw: string, envelope: Envelope, nowMs: number, secondsLeft: number): StoredSnapshot {
  const { data, owner, createdAtMs, ownPeriodSeconds: ownExpirySeconds, authenticatedAtMs } = envelope;
  return { key, raw, data, owner, createdAtMs, expiresAtMs: nowMs + secondsLeft * 1000, ownExpirySeconds, authenticatedAtMs };
}

/**
 * The stored value for `envelope`, stamped as seen now by the request's
 * client (as far as the options record it: every write carries them, so
 * they cost no write of their own); throws a {@link SessionDataTooLargeError}
 * before any write when it is over `maxDataBytes` (UTF-8). `dataText`:
 * `JSON.stringify(envelope.data)` when the caller has it already.
 */
export function encodeWithin(envelope: UnstampedEnvelope, context: StoreContext, dataText?: string): string {
  const { options, client } = context;
  const { maxDataBytes } = options;
  const { createdAtMs, owner, data, ownPeriodSeconds, authenticatedAtMs } = envelope;
  // Field by field, not `{ ...envelope, lastSeenAtMs, … }`: V8 (Node 20) builds a new hidden class each time a
  // spread copy gains properties its source lacks, about 4 µs per write, a sixth of the session's cost per request.
  // Typed with every field of Envelope required: a field added to it cannot be left out of this copy.
  const stamped: { [Field in keyof Required<Envelope>]: Envelope[Field] } = { createdAtMs, owner, data, ownPeriodSeconds, authenticatedAtMs, lastSeenAtMs: options.nowMs(), userAgent: client?.userAgent, clientAddress: client?.clientAddress };
  const value = encodeEnvelope(stamped, dataText);
  // Each UTF-16 unit is at most 3 bytes of UTF-8, so short values skip the count.
  if (value.length * 3 > maxDataBytes) {
    const bytes = utf8Bytes(value);
    if (bytes > maxDataBytes) throw new SessionDataTooLargeError(bytes, maxDataBytes);
  }
  return value;
}

/**
 * Throws a {@link SessionDataTooLargeError} when `shown` with `data` in place
 * of its own (and `ownExpirySeconds` as its period) would be over
 * `maxDataBytes`: `set` checks each field as it is set, not at the commit.
 */
export function assertFits(shown: Snapshot, data: DataRecord, ownExpirySeconds: number | undefined, context: StoreContext): void {
  encodeWithin({ createdAtMs: shown.createdAtMs ?? context.options.nowMs(), owner: shown.owner, data, ownPeriodSeconds: ownExpirySeconds, authenticatedAtMs: shown.authenticatedAtMs }, context);
}

import { parseJsonObject } from '../core/validate.js';

/** Session data: a JSON object, field by field. */
export type DataRecord = Record<string, unknown>;

/** What a typed session stores as the backend's string value. */
export interface Envelope {
  /** When the session was created, in milliseconds since the epoch (for the absolute lifetime). */
  readonly createdAtMs: number;
  /**
   * The user the session belongs to, as given to `generate({ owner })`: a
   * copy of the backend's owner index, so a request learns it from the one
   * read it already makes. Absent for anonymous sessions.
   */
  readonly owner?: string | undefined;
  /** The session data. */
  readonly data: DataRecord;
  /**
   * This session's own idle period in seconds (`setExpirySeconds`), in place of the configured one; absent: the
   * configured one. Stored under the JSON key `expirySeconds`, the name sessions already stored carry.
   */
  readonly ownPeriodSeconds?: number | undefined;
  /**
   * When the user last authenticated, in milliseconds since the epoch: set by
   * `regenerate({ owner })` (a login or a step-up re-login), kept by every
   * other write. Absent: unknown (an anonymous session, or one stored before
   * sessionkit recorded it).
   */
  readonly authenticatedAtMs?: number | undefined;
  /**
   * When a request last wrote or renewed the session, in milliseconds since
   * the epoch: set by every write, so it is as recent as the touch throttle
   * (`touchAfterSeconds`) lets it be, at no write of its own. Absent: stored
   * before sessionkit recorded it.
   */
  readonly lastSeenAtMs?: number | undefined;
  /** The `User-Agent` of the request that last wrote the session (at most 256 characters), when `recordUserAgent` is on. */
  readonly userAgent?: string | undefined;
  /** The client address of the request that last wrote the session, when `recordClientAddress` is on. */
  readonly clientAddress?: string | undefined;
}

/**
 * The JSON text stored for `envelope`: `{"createdAtMs":…,"owner":…,"data":{…}}`
 * (`owner` only when there is one), then `expirySeconds`, `authenticatedAtMs`,
 * `lastSeenAtMs`, `userAgent` and `clientAddress` when present. `dataText`:
 * `JSON.stringify(envelope.data)` when the caller has it already.
 */
export function encodeEnvelope(envelope: Envelope, dataText: string | undefined = JSON.stringify(envelope.data)): string {
  const { createdAtMs, owner, data, ownPeriodSeconds: expirySeconds, authenticatedAtMs, lastSeenAtMs, userAgent, clientAddress } = envelope;
  // A number JSON cannot hold (NaN, ±Infinity) or an owner that is no string goes through JSON.stringify, which writes null, as before.
  if (!Number.isFinite(createdAtMs) || !finiteOrAbsent(expirySeconds) || !finiteOrAbsent(authenticatedAtMs) || !finiteOrAbsent(lastSeenAtMs) || (owner !== undefined && typeof owner !== 'string')) {
    return JSON.stringify({ createdAtMs, owner, data, expirySeconds, authenticatedAtMs, lastSeenAtMs, userAgent, clientAddress });
  }
  // Written out rather than JSON.stringify of a new object: the same text (`data` is the only
  // part that needs the serializer), without an object and a key walk on every write.
  // A finite number's JSON is its String() (-0 included: both write 0).
  // JSON.stringify leaves out a property whose value it cannot write (undefined, a function).
  const dataPart = dataText === undefined ? '' : ',"data":' + dataText;
  const ownerPart = owner === undefined ? '' : ',"owner":' + JSON.stringify(owner);
  const expiryPart = expirySeconds === undefined ? '' : ',"expirySeconds":' + expirySeconds;
  // Last, and only when known: the text of a session without them is the one written before they existed.
  const authenticatedPart = authenticatedAtMs === undefined ? '' : ',"authenticatedAtMs":' + authenticatedAtMs;
  const seenPart = lastSeenAtMs === undefined ? '' : ',"lastSeenAtMs":' + lastSeenAtMs;
  const userAgentPart = userAgent === undefined ? '' : ',"userAgent":' + JSON.stringify(userAgent);
  const addressPart = clientAddress === undefined ? '' : ',"clientAddress":' + JSON.stringify(clientAddress);
  return '{"createdAtMs":' + createdAtMs + ownerPart + dataPart + expiryPart + authenticatedPart + seenPart + userAgentPart + addressPart + '}';
}

function finiteOrAbsent(value: number | undefined): boolean {
  return value === undefined || Number.isFinite(value);
}

/** The envelope stored in `value`, or undefined for anything that is not one (never throws). */
export function decodeEnvelope(value: string): Envelope | undefined {
  const parsed = parseJsonObject(value);
  if (parsed === undefined) return undefined;
  const { createdAtMs, owner, data, expirySeconds, authenticatedAtMs, lastSeenAtMs, userAgent, clientAddress } = parsed;
  if (typeof createdAtMs !== 'number' || !Number.isFinite(createdAtMs)) return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (expirySeconds !== undefined && !(typeof expirySeconds === 'number' && Number.isSafeInteger(expirySeconds) && expirySeconds > 0)) return undefined;
  if (owner !== undefined && (typeof owner !== 'string' || owner.length === 0)) return undefined;
  if (!optionalTime(authenticatedAtMs) || !optionalTime(lastSeenAtMs)) return undefined;
  if ((userAgent !== undefined && typeof userAgent !== 'string') || (clientAddress !== undefined && typeof clientAddress !== 'string')) return undefined;
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = knownShape(createdAtMs, owner, data as DataRecord, expirySeconds);
  // Present fields only, in the order they are written: absent ones stay absent, not undefined.
  if (authenticatedAtMs !== undefined) envelope.authenticatedAtMs = authenticatedAtMs;
  if (lastSeenAtMs !== undefined) envelope.lastSeenAtMs = lastSeenAtMs;
  if (userAgent !== undefined) envelope.userAgent = userAgent;
  if (clientAddress !== undefined) envelope.clientAddress = clientAddress;
  return envelope;
}

/** Absent, or a finite number (a time in milliseconds). */
function optionalTime(value: unknown): value is number | undefined {
  return value === undefined || (typeof value === 'number' && Number.isFinite(value));
}

function knownShape(createdAtMs: number, owner: string | undefined, data: DataRecord, expirySeconds: number | undefined): Envelope {
  // One shape for every envelope (absent fields left out, as before), built without spreads.
  if (owner === undefined) return expirySeconds === undefined ? { createdAtMs, data } : { createdAtMs, data, ownPeriodSeconds: expirySeconds };
  return expirySeconds === undefined ? { createdAtMs, owner, data } : { createdAtMs, owner, data, ownPeriodSeconds: expirySeconds };
}

/** What a session's stored value records of its last request, for a devices list (`listOwnSessions`, `sessionkit inspect`). */
export interface StoredMetadata {
  readonly lastSeenAt: Date | undefined;
  readonly userAgent: string | undefined;
  readonly clientAddress: string | undefined;
}

/** The metadata `value` records: all undefined for a value that is not a typed session's, or one stored before they were recorded. */
export function storedMetadata(value: string | null): StoredMetadata {
  const envelope = value === null ? undefined : decodeEnvelope(value);
  const lastSeenAtMs = envelope?.lastSeenAtMs;
  return { lastSeenAt: lastSeenAtMs === undefined ? undefined : new Date(lastSeenAtMs), userAgent: envelope?.userAgent, clientAddress: envelope?.clientAddress };
}

/** Bytes of UTF-8 in `text`. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

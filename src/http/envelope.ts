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
}

/**
 * The JSON text stored for `envelope`: `{"createdAtMs":…,"owner":…,"data":{…}}`
 * (`owner` only when there is one), then `expirySeconds` and
 * `authenticatedAtMs` when present.
 */
export function encodeEnvelope(envelope: Envelope): string {
  const { createdAtMs, owner, data, ownPeriodSeconds: expirySeconds, authenticatedAtMs } = envelope;
  // Last, and only when known: the text of a session without it is the one written before it existed.
  if (authenticatedAtMs !== undefined && !Number.isFinite(authenticatedAtMs)) return JSON.stringify({ createdAtMs, owner, data, expirySeconds, authenticatedAtMs });
  const authenticatedPart = authenticatedAtMs === undefined ? '' : ',"authenticatedAtMs":' + authenticatedAtMs;
  // Written out rather than JSON.stringify of a new object: the same text (`data` is the only
  // part that needs the serializer), without an object and a key walk on every write.
  // A number JSON cannot hold (NaN, ±Infinity) goes through JSON.stringify, which writes null, as before.
  if (!Number.isFinite(createdAtMs) || (expirySeconds !== undefined && !Number.isFinite(expirySeconds)) || (owner !== undefined && typeof owner !== 'string')) {
    if (expirySeconds !== undefined || authenticatedAtMs !== undefined) return JSON.stringify({ createdAtMs, owner, data, expirySeconds, authenticatedAtMs });
    return JSON.stringify(owner === undefined ? { createdAtMs, data } : { createdAtMs, owner, data });
  }
  // A finite number's JSON is its String() (-0 included: both write 0).
  const dataText: string | undefined = JSON.stringify(data);
  // JSON.stringify leaves out a property whose value it cannot write (undefined, a function).
  const dataPart = dataText === undefined ? '' : ',"data":' + dataText;
  const ownerPart = owner === undefined ? '' : ',"owner":' + JSON.stringify(owner);
  const expiryPart = expirySeconds === undefined ? '' : ',"expirySeconds":' + expirySeconds;
  return '{"createdAtMs":' + createdAtMs + ownerPart + dataPart + expiryPart + authenticatedPart + '}';
}

/** The envelope stored in `value`, or undefined for anything that is not one (never throws). */
export function decodeEnvelope(value: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { createdAtMs, owner, data, expirySeconds, authenticatedAtMs } = parsed as Record<string, unknown>;
  if (typeof createdAtMs !== 'number' || !Number.isFinite(createdAtMs)) return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (expirySeconds !== undefined && !(typeof expirySeconds === 'number' && Number.isSafeInteger(expirySeconds) && expirySeconds > 0)) return undefined;
  if (owner !== undefined && (typeof owner !== 'string' || owner.length === 0)) return undefined;
  if (authenticatedAtMs !== undefined && (typeof authenticatedAtMs !== 'number' || !Number.isFinite(authenticatedAtMs))) return undefined;
  const envelope = knownShape(createdAtMs, owner, data as DataRecord, expirySeconds);
  return authenticatedAtMs === undefined ? envelope : { ...envelope, authenticatedAtMs };
}

function knownShape(createdAtMs: number, owner: string | undefined, data: DataRecord, expirySeconds: number | undefined): Envelope {
  // One shape for every envelope (absent fields left out, as before), built without spreads.
  if (owner === undefined) return expirySeconds === undefined ? { createdAtMs, data } : { createdAtMs, data, ownPeriodSeconds: expirySeconds };
  return expirySeconds === undefined ? { createdAtMs, owner, data } : { createdAtMs, owner, data, ownPeriodSeconds: expirySeconds };
}

/** Bytes of UTF-8 in `text`. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

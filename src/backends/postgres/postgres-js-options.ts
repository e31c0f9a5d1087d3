import { connect as netConnect, type Socket } from 'node:net';
import { assertWholeNumberOption } from '../../core/validate.js';

/** What postgres.js hands its `socket` option: the connection's parsed options (the fields read here). */
export interface PostgresJsSocketTarget {
  host: readonly string[];
  port: readonly number[];
  path?: string | false;
}

/** What {@link postgresJsOptions} returns: spread it into `postgres(url, { ... })`. */
export interface PostgresJsFaultOptions {
  /** Destroys a connection silent for `silenceMs` while it owes a reply. */
  socket: (target: PostgresJsSocketTarget) => Socket;
  /** sessionkit needs no array types. */
  fetch_types: false;
  /** Seconds before a reconnect: 50 ms per failed attempt, at most 0.5 s. */
  backoff: (retries: number) => number;
}

/**
 * The postgres.js options of a `sql` given to `PostgresBackend`, against three
 * defects of postgres.js 3.4 that a backend handed the `sql` cannot reach:
 *
 * ```ts
 * const sql = postgres(url, { ...postgresJsOptions({ silenceMs: 10_000 }), max: 10 });
 * const backend = new PostgresBackend(sql, { timeoutMs: 5000 });
 * ```
 *
 * - `socket`: postgres.js has no timeout on a connection's socket and
 *   pipelines new queries behind a busy connection, so a connection
 *   black-holed by the network (a NAT or a failover that forgets it: no FIN,
 *   no reset) keeps its query, and every query queued behind it, until the
 *   kernel gives up (many minutes). This socket counts the ReadyForQuery
 *   messages the server owes (one per Query or Sync written, one for the
 *   startup) and destroys a connection silent for `silenceMs` while it owes
 *   one; postgres.js fails its queries (sessionkit settles a write among them
 *   as any connection lost after it was sent) and opens a new one. An idle
 *   connection owes nothing and is never cut. A statement that runs longer
 *   than `silenceMs` without a row is cut too: give sessionkit a `sql` of its
 *   own (its statements are bounded by the backend's `timeoutMs`) and a
 *   `silenceMs` above that bound, e.g. twice `timeoutMs`. TLS connections are
 *   not watched (Node's TLS layer uses the socket's handle directly). The
 *   socket also hands postgres.js a connection's error together with its
 *   close: apart, a query the pool gave the dying connection in between
 *   outlived the reconnect and kept the new connection from serving again.
 *   After a server frozen for seconds resumes, service is back within
 *   milliseconds, as without this socket.
 * - `fetch_types: false`: postgres.js looks up the array types on every new
 *   connection and leaves that lookup's failure on a dying connection as an
 *   unhandled rejection, which ends a Node process; the backend sends its
 *   arrays as text and needs none.
 * - `backoff`: postgres.js's default reconnect delay grows as 3^retries (up
 *   to 20 s), counted across the pool and reset only by a successful connect,
 *   so after a restart the pool stays away long after the server is back.
 *
 * A plain object (postgres.js's types do not list its documented `socket`
 * option, so a spread, which TypeScript does not check for unknown
 * properties, is how to pass it).
 */
export function postgresJsOptions(options: { silenceMs: number }): PostgresJsFaultOptions {
  return { socket: postgresJsSocket(options), fetch_types: false, backoff: (retries) => Math.min(retries * 0.05, 0.5) };
}

/** postgres.js's `socket` option of {@link postgresJsOptions}. */
function postgresJsSocket(options: { silenceMs: number }): (target: PostgresJsSocketTarget) => Socket {
  const { silenceMs } = options;
  assertWholeNumberOption(silenceMs, 'silenceMs', 1);
  let nextHost = 0;
  return (target) => {
    const index = nextHost++ % Math.max(1, target.host.length);
    const socket = typeof target.path === 'string' && target.path !== '' ? netConnect(target.path) : netConnect({ host: target.host[index], port: target.port[index] ?? target.port[0] ?? 5432 });
    watchReplies(socket, silenceMs);
    return socket;
  };
}

/** The protocol codes of SSLRequest and GSSENCRequest: an encrypted connection follows, which this watch cannot read. */
const ENCRYPTION_REQUEST_CODES = new Set([80877103, 80877104]);
/** Protocol 3.0's code in a StartupMessage, answered by a ReadyForQuery (a CancelRequest is answered by nothing). */
const STARTUP_CODE = 196608;
const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'
const READY_FOR_QUERY = 0x5a; // 'Z'

/** Frames a byte stream into PostgreSQL messages (a type byte, then a 4-byte length that counts itself), across chunks. */
class MessageFramer {
  /** Bytes of the current message still to skip (its body). */
  #skip = 0;
  /** The current message's header so far (type byte and length), when a chunk ended inside it. */
  #header: number[] = [];

  /** Calls `onType` with the type byte of every message that starts in `chunk`. */
  feed(chunk: Uint8Array, onType: (type: number) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const step = Math.min(this.#skip, chunk.length - at);
        this.#skip -= step;
        at += step;
        continue;
      }
      this.#header.push(chunk[at++]!);
      if (this.#header.length < 5) continue;
      const [type, b1, b2, b3, b4] = this.#header as [number, number, number, number, number];
      this.#header = [];
      this.#skip = ((b1 << 24) | (b2 << 16) | (b3 << 8) | b4) - 4;
      onType(type);
    }
  }
}

function silentConnectionError(silenceMs: number): Error {
  return Object.assign(new Error(`connection silent for ${silenceMs} ms while a reply was owed (destroyed by sessionkit's postgresJsOptions)`), { code: 'ETIMEDOUT' });
}

/** Destroys `socket` once it has owed a ReadyForQuery for `silenceMs` with nothing received meanwhile. */
function watchReplies(socket: Socket, silenceMs: number): void {
  const sent = new MessageFramer();
  const received = new MessageFramer();
  /** ReadyForQuery messages the server owes: one per Query or Sync sent, and one for the startup. */
  let owed = 0;
  /** The untyped first message (startup, cancel or encryption request): its bytes still to read, or -1 once past it. */
  let firstMessageLeft = 0;
  const firstMessage: number[] = [];
  let timer: NodeJS.Timeout | undefined;

  const arm = () => {
    clearTimeout(timer);
    // Destroyed with an error, as a socket timeout would be (code ETIMEDOUT): postgres.js fails the connection's
    // queries with it and counts a failed connection for its back-off. Destroyed without one, postgres.js retries a
    // connection still starting up forever on the same footing and its queries never fail.
    timer = owed > 0 ? setTimeout(() => socket.destroy(silentConnectionError(silenceMs)), silenceMs) : undefined;
    timer?.unref();
  };
  const stop = () => {
    clearTimeout(timer);
    socket.write = write;
    socket.emit = emit as Socket['emit'];
    socket.off('data', onData);
  };
  const onSent = (type: number) => {
    if (type === QUERY || type === SYNC) owed++;
  };
  const onData = (chunk: Buffer) => {
    received.feed(chunk, (type) => {
      if (type === READY_FOR_QUERY && owed > 0) owed--;
    });
    arm();
  };

  // postgres.js 3.4 fails a connection's queries on the socket's 'error', but hands the connection back to its pool
  // only on 'close', which net emits once the handle has closed, a turn of the event loop later. A query the pool
  // pipelines onto the connection meanwhile stays in its list of queries sent, through the reconnect: the new
  // connection takes it for its running statement, waits for replies the server was never asked for, and never
  // serves again (each silence cut under a frozen server took a connection this way, until none was left). Held
  // back until 'close', the error fails that query too, in the same turn as the close.
  let heldError: unknown;
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function errorWithClose(this: Socket, event: string | symbol, ...args: unknown[]) {
    if (event === 'error') {
      heldError ??= args[0];
      return true;
    }
    if (event === 'close' && heldError !== undefined) emit.call(this, 'error', heldError);
    return emit.call(this, event, ...args);
  } as Socket['emit'];

  const write = socket.write;
  socket.write = function watchedWrite(this: Socket, data: unknown, ...rest: unknown[]) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array);
    let at = 0;
    if (firstMessageLeft !== -1) {
      // The first message has a length but no type byte: read past it.
      while (at < bytes.length && firstMessage.length < 8) firstMessage.push(bytes[at++]!);
      if (firstMessage.length >= 8 && firstMessageLeft === 0) {
        const [l1, l2, l3, l4, c1, c2, c3, c4] = firstMessage as [number, number, number, number, number, number, number, number];
        const code = ((c1 << 24) | (c2 << 16) | (c3 << 8) | c4) >>> 0;
        if (ENCRYPTION_REQUEST_CODES.has(code)) {
          stop();
          return write.call(this, data as string, ...(rest as []));
        }
        firstMessageLeft = ((l1 << 24) | (l2 << 16) | (l3 << 8) | l4) - 8;
        if (code === STARTUP_CODE) owed++;
      }
      if (firstMessage.length >= 8) {
        const step = Math.min(firstMessageLeft, bytes.length - at);
        firstMessageLeft -= step;
        at += step;
        if (firstMessageLeft === 0) firstMessageLeft = -1;
      }
    }
    if (at < bytes.length) sent.feed(at === 0 ? bytes : bytes.subarray(at), onSent);
    if (timer === undefined) arm();
    return write.call(this, data as string, ...(rest as []));
  } as Socket['write'];
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(timer));
}

import type { PgClientLike as Client, PGliteLike as PGliteInterface, PgPoolClientLike as PoolClient, PgPoolLike as Pool, PostgresJsPendingQuery as PendingQuery, PostgresJsSql as Sql, PostgresJsTransactionSql as TransactionSql } from './driver-types.js';
import { msUntil } from '../../core/deadline.js';
import { BackendError } from '../../core/errors.js';
import { hasShape } from '../../core/validate.js';
import { sqlState, withTimeout } from './failures.js';

/**
 * A database handle the caller already has: a `pg` Pool or Client, a
 * postgres.js `sql`, or a PGlite instance. The backend never ends it.
 */
export type PostgresDatabase = Pool | Client | Sql | PGliteInterface;

/** One SQL statement; `name` lets drivers that can prepare it do so once per connection. */
export interface Statement {
  name: string;
  text: string;
}

/** A statement with its parameters. */
export interface BoundStatement {
  statement: Statement;
  params: readonly unknown[];
}

/** How long a statement may take, and what to call it in the timeout's message. */
export interface Deadline {
  timeoutMs: number;
  operation: string;
}

/** The deadline of a write: an instant on `performance.now()`, the caller's `timeoutMs` for messages, and its name. */
export interface WriteDeadline {
  deadlineMs: number;
  timeoutMs: number;
  operation: string;
}

/**
 * A write that was sent and whose fate the driver could not learn: its
 * connection died, or no answer came before the time kept for settling it.
 * `reason` is the error its caller hears if settling shows it was not applied.
 */
export class UncertainWrite extends Error {
  override readonly name = 'UncertainWrite';
  /** The server process that ran the write (pg's `processID`), when the driver knows it. */
  readonly writerPid: number | undefined;
  /** The write's transaction id, when the server told it before the write ran (pg). */
  readonly writerXid: string | undefined;
  readonly reason: 'timeout' | 'unavailable';

  constructor(reason: 'timeout' | 'unavailable', writerPid: number | undefined, message: string, options?: { cause?: unknown; writerXid?: string | undefined }) {
    super(message, options);
    this.reason = reason;
    this.writerPid = writerPid;
    this.writerXid = options?.writerXid;
  }
}

/** What settling an uncertain write learnt: the rows the read found, and whether the writer can still commit. */
export interface Settlement<Row> {
  rows: Row[];
  /** True when the server process that ran the write is gone, so nothing of it can land any more. */
  writerGone: boolean;
  /** Whether the write's transaction committed (`txid_status`), when its id is known and its process gone. */
  committed?: boolean | undefined;
}

/** Runs statements: all a held connection, and a purge, need. */
export interface Connection {
  /**
   * Runs a statement. With a `deadline`, rejects with a `timeout` BackendError
   * once it has passed, a statement still waiting for a connection then
   * (in the driver's queue) is never sent, and a connection that stayed
   * silent past it is destroyed.
   */
  query<Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]>;
}

/** A connection held apart from the pool (for a session-level advisory lock). */
export interface HeldConnection extends Connection {
  /** Gives the connection back; `broken` asks the pool to discard it. */
  release(broken: boolean): Promise<void>;
}

/** The little the backend needs of any driver: run a statement, run a bounded write, settle one, and hold a connection. */
export interface Queryable extends Connection {
  /**
   * Runs one write in a transaction of its own whose server-side
   * `statement_timeout` (set when the statement is sent, from the time left)
   * covers every lock wait, and leaves time before `deadlineMs` to settle it.
   * Resolves: applied once. Rejects with a BackendError: not applied. Rejects
   * with an {@link UncertainWrite}: sent, fate unknown; pass it to `settle`.
   * `lockFirst` (a transaction-scoped lock) runs before the write in the same
   * transaction, so the write's snapshot is taken once the lock is held.
   */
  write<Row>(statement: Statement, params: readonly unknown[], deadline: WriteDeadline, lockFirst?: BoundStatement): Promise<Row[]>;
  /**
   * On a fresh connection, makes sure the uncertain write's server process is
   * gone (terminating it, waiting at most until `deadlineMs`) and then runs
   * `read`. Resolves `undefined` when that could not be learnt in time.
   */
  settle<Row>(uncertain: UncertainWrite, read: Statement, params: readonly unknown[], deadlineMs: number): Promise<Settlement<Row> | undefined>;
  /**
   * Holds one connection apart. `onLost` hears the driver's error when the
   * server drops that connection while it is held (terminated, restarted,
   * `idle_session_timeout`): without a listener, pg would throw it from the
   * socket's event and end the process.
   */
  hold(onLost?: (error: unknown) => void): Promise<HeldConnection>;
}

/**
 * How a write's time is split, from what is left when it is sent: the last
 * quarter (50 ms to 1 s) is kept for settling it on a fresh connection, and
 * the server's `statement_timeout` ends a margin (10 %, 20 to 200 ms) before
 * the client stops waiting, so a write blocked by locks comes back as the
 * server's own "cancelled, not applied" (57014) rather than as silence.
 */
function writeWindow(remainingMs: number): { waitMs: number; boundMs: number } {
  const reserveMs = Math.min(1000, Math.max(50, remainingMs / 4));
  const waitMs = remainingMs - reserveMs;
  const boundMs = Math.floor(waitMs - Math.min(200, Math.max(20, waitMs / 10)));
  return { waitMs, boundMs };
}

/** Below this many milliseconds left, a write is not sent at all (`timeout`, not sent): too little to bound and settle it. */
const SMALLEST_WRITE_WINDOW_MS = 100;

/** SQLSTATEs after which the server may have committed the write anyway (the connection or the server process ended). */
function isConnectionLoss(error: unknown): boolean {
  const code = sqlState(error);
  return code === undefined || code.startsWith('08') || code.startsWith('57P');
}

/** Terminations that come from the server itself: its process ended, so an uncommitted write never will commit. */
function serverProcessEnded(error: unknown): boolean {
  const code = sqlState(error);
  return code === '57P01' || code === '57P02' || code === '57P03';
}

async function pgQuery<Row>(target: Client | PoolClient, statement: Statement, params: readonly unknown[]): Promise<Row[]> {
  const result = await target.query({ name: statement.name, text: statement.text, values: params as unknown[] });
  return result.rows as Row[];
}

function notSent({ operation, timeoutMs }: Deadline): BackendError {
  return new BackendError('timeout', `PostgreSQL did not answer ${operation} within ${timeoutMs} ms (no connection was free in time; not sent)`);
}

const ignoreError = (): void => undefined;

/** A write a driver sent, as {@link boundedWrite} needs to answer it. */
interface SentWrite {
  /** The server process that runs it, when the driver knows it. */
  pid?: number | undefined;
  /** Its transaction id, once the server told it (pg). */
  xid?: () => string | undefined;
  /** When the bound runs out, for a driver whose server does not bound the write itself; `waiting` is false once it was answered. */
  atBound?: (waiting: () => boolean) => void;
  /** No answer came in the time before settling: the connection is taken for silent (a black hole sends no FIN). */
  onSilent?: () => void;
}

/** How a driver's write reports its outcome: an error, or its rows. */
type WriteReply<Row> = (error: unknown, rows: Row[] | undefined) => void;

/**
 * The one way a write is bounded and answered, for every driver that can
 * lose a reply: not sent with under {@link SMALLEST_WRITE_WINDOW_MS} left;
 * sent with the bound of {@link writeWindow}; answered by the driver's reply
 * (a server error: rolled back, not applied; a lost connection: uncertain),
 * or uncertain when no reply comes before the time kept for settling.
 * `release(broken)`, if any, gives the connection back once, when the write is
 * answered. The reply is a callback rather than a promise so that pg's
 * connection is given back in the step that read the reply (see
 * {@link pgPoolQueryable}'s `connectGuarded`).
 */
function boundedWrite<Row>(deadline: WriteDeadline, send: (boundMs: number, reply: WriteReply<Row>) => SentWrite, release: (broken: Error | undefined) => void = ignoreError): Promise<Row[]> {
  const { operation, timeoutMs } = deadline;
  const remainingMs = deadline.deadlineMs - performance.now();
  if (remainingMs < SMALLEST_WRITE_WINDOW_MS) {
    release(undefined);
    return Promise.reject(notSent(deadline));
  }
  const { waitMs, boundMs } = writeWindow(remainingMs);
  return new Promise<Row[]>((resolve, reject) => {
    let answered = false;
    let boundTimer: ReturnType<typeof setTimeout> | undefined;
    const answer = (broken: Error | undefined): boolean => {
      if (answered) return false;
      answered = true;
      clearTimeout(silentTimer);
      clearTimeout(boundTimer);
      release(broken);
      return true;
    };
    const uncertain = (reason: 'timeout' | 'unavailable', message: string, cause?: unknown) =>
      new UncertainWrite(reason, sent?.pid, message, { cause, writerXid: sent?.xid?.() });
    const silentTimer = setTimeout(() => {
      sent?.onSilent?.();
      if (answer(new Error('silent past its deadline'))) reject(uncertain('timeout', `PostgreSQL did not answer ${operation} within ${timeoutMs} ms`));
    }, Math.ceil(waitMs));
    let sent: SentWrite | undefined;
    try {
      sent = send(boundMs, (error, rows) => {
        if (error === null || error === undefined) {
          if (answer(undefined)) resolve(rows ?? []);
        } else if (!isConnectionLoss(error)) {
          // The server answered with an error: the transaction rolled back (57014: its bound).
          if (answer(undefined)) reject(error);
        } else if (answer(error as Error)) {
          reject(uncertain('unavailable', `PostgreSQL connection lost during ${operation}`, error));
        }
      });
    } catch (error) {
      // Refused before anything was sent.
      if (answer(undefined)) reject(error);
      return;
    }
    const atBound = sent.atBound;
    if (atBound !== undefined && !answered) boundTimer = setTimeout(() => atBound(() => !answered), boundMs);
  });
}

/** pg's internals this file reaches: the socket (to destroy a silent connection), the backend's process id, and the Query class. */
interface PgClientInternals {
  processID?: number | null;
  connection?: { stream?: { destroy(): void } };
  connectionParameters?: Record<string, unknown>;
  constructor: { Query?: PgQueryClass } & (new (config: unknown) => SettlingClient);
}

type PgQueryClass = new (config: { name: string; text: string; values: unknown[]; callback: (error: Error | null, result: { rows: unknown[] }) => void }) => PgQueryInstance;
interface PgQueryInstance {
  readonly name: string;
  readonly text: string;
  readonly types: unknown[];
  prepare(connection: PgConnection): void;
  hasBeenParsed(connection: PgConnection): boolean;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: PgConnection): void;
  handleError(error: unknown, connection: PgConnection): void;
}
interface PgConnection {
  parsedStatements: Record<string, string>;
  /** Named statements sent but not yet confirmed (pg's own record, read by `hasBeenParsed`). */
  submittedNamedStatements: Record<string, string>;
  flush(): void;
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: { portal: string; statement: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(message: { portal: string }): void;
  close(message: { type: 'S'; name: string }): void;
}

/** The bound's statement, prepared once per connection; the same for every table. */
const BOUND_STATEMENT = { name: 'sessionkit_write_bound', text: "SELECT set_config('statement_timeout', $1, true), txid_current()::text" };
/** Connections on which the bound's statement was sent for parsing (as pg marks its own named statements when sent). */
const boundPrepared = new WeakSet<PgConnection>();
const boundedQueryClasses = new WeakMap<PgQueryClass, PgQueryClass>();

/**
 * pg's Query with the bound's statement (`SELECT set_config('statement_timeout',
 * $1, true), txid_current()`) executed before it in the same pipeline,
 * under one Sync: one round trip, one implicit transaction, and PostgreSQL
 * arms `statement_timeout` afresh for each Execute (and a Parse), so the
 * write runs under the bound and the setting ends with its transaction. The
 * bound's statement is prepared once per connection, as the writes are. A
 * Flush after it makes the server send its row at once: the transaction's
 * id is known before the write runs, so a write whose reply is lost can be
 * settled by `txid_status`. The first statement's row and completion are
 * not the caller's.
 */
function boundedQueryClass(Query: PgQueryClass): PgQueryClass {
  let Bounded = boundedQueryClasses.get(Query);
  if (Bounded !== undefined) return Bounded;
  class BoundedQuery extends (Query as unknown as new (config: unknown) => PgQueryInstance) {
    boundMs = 0;
    xid: string | undefined;
    lockFirst: BoundStatement | undefined;
    /** Completions still to come from the statements sent before the caller's (the bound's, and the lock's). */
    #notOurs = 1;
    #parsesWrite = false;
    override prepare(connection: PgConnection): void {
      if (!boundPrepared.has(connection)) {
        boundPrepared.add(connection);
        connection.parse({ ...BOUND_STATEMENT, types: [] });
      }
      connection.bind({ portal: '', statement: BOUND_STATEMENT.name, values: [String(this.boundMs)], valueMapper: (value) => value });
      connection.execute({ portal: '' });
      connection.flush();
      this.#parsesWrite = !this.hasBeenParsed(connection);
      // A write parsed again after a failed first try may exist on the server or not (see handleError): Close
      // makes both the same (closing a statement that does not exist is no error).
      if (this.#parsesWrite) connection.close({ type: 'S', name: this.name });
      if (this.lockFirst !== undefined) {
        this.#notOurs++;
        // The caller's Parse goes before the lock, whose Execute may fail (its bound): the server skips every
        // message after a failure up to the Sync, so a Parse after the lock could be recorded and never made.
        if (this.#parsesWrite) {
          connection.parse({ text: this.text, name: this.name, types: this.types });
          connection.submittedNamedStatements[this.name] = this.text;
        }
        connection.parse({ text: this.lockFirst.statement.text, name: '', types: [] });
        connection.bind({ portal: '', statement: '', values: [...this.lockFirst.params], valueMapper: (value) => value });
        connection.execute({ portal: '' });
      }
      super.prepare(connection);
    }
    override handleDataRow(message: unknown): void {
      if (this.#notOurs === 0) super.handleDataRow(message);
      else {
        const xid = (message as { fields?: unknown[] }).fields?.[1];
        if (typeof xid === 'string' && this.xid === undefined) this.xid = xid;
      }
    }
    override handleCommandComplete(message: unknown, connection: PgConnection): void {
      if (this.#notOurs === 0) super.handleCommandComplete(message, connection);
      else this.#notOurs--;
    }
    override handleError(error: unknown, connection: PgConnection): void {
      // pg takes the first ParseComplete of a query for its statement's: here that is the bound's, so a write
      // whose own Parse then failed (its table missing) would be taken for prepared, and fail on every use.
      if (this.#parsesWrite) delete connection.parsedStatements[this.name];
      super.handleError(error, connection);
    }
  }
  Bounded = BoundedQuery as unknown as PgQueryClass;
  boundedQueryClasses.set(Query, Bounded);
  return Bounded;
}

/** Destroys a pg client's socket: a connection silent past a deadline may be black-holed (no FIN ever comes), and `end()` would wait for one. */
function destroySocket(client: Client | PoolClient): void {
  try {
    (client as unknown as PgClientInternals).connection?.stream?.destroy();
  } catch {
    // Already gone.
  }
}

/** Sends `statement` on `client` as a {@link boundedWrite} send, after `lockFirst` when given; `onSilent` adds to destroying the socket. */
function pgWrite<Row>(client: Client | PoolClient, statement: Statement, params: readonly unknown[], onSilent?: () => void, lockFirst?: BoundStatement) {
  return (boundMs: number, reply: WriteReply<Row>): SentWrite => {
    const internals = client as unknown as PgClientInternals;
    const Query = internals.constructor.Query;
    if (Query === undefined) throw new TypeError('PostgresBackend needs pg 8 (its Client.Query)');
    const query = new (boundedQueryClass(Query))({
      name: statement.name,
      text: statement.text,
      values: params as unknown[],
      // The query's own outcome decides, never the client's 'error' event: pg emits that event first when the
      // server ends the connection in the same read that carries the write's result.
      callback: (error, result) => reply(error, result?.rows as Row[] | undefined),
    }) as PgQueryInstance & { boundMs: number; xid?: string; lockFirst: BoundStatement | undefined };
    // The server arms statement_timeout per statement: after a lock, each of the two gets half, so both end in time.
    query.boundMs = lockFirst === undefined ? boundMs : Math.floor(boundMs / 2);
    query.lockFirst = lockFirst;
    (client as Client).query(query as never);
    return {
      pid: internals.processID ?? undefined,
      xid: () => query.xid,
      onSilent: () => {
        onSilent?.();
        destroySocket(client);
      },
    };
  };
}

/** The pg Client a settlement opens for itself (from the pool's or client's own configuration). */
interface SettlingClient {
  connect(): Promise<unknown>;
  query(config: { text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  end(): Promise<void>;
}

/**
 * Settles on a connection of its own, a new `Client` of pg's from `config`
 * (the pool's options or the client's parameters): makes sure the writer's
 * process is gone (terminating it), then runs `read`.
 */
function pgSettle(Client: new (config: unknown) => SettlingClient, config: Record<string, unknown>): Queryable['settle'] {
  return async <Row>(uncertain: UncertainWrite, read: Statement, params: readonly unknown[], deadlineMs: number): Promise<Settlement<Row> | undefined> => {
    const leftMs = () => deadlineMs - performance.now();
    if (leftMs() < 10) return undefined;
    let client: SettlingClient;
    try {
      // pg keeps the password as a non-enumerable property, which a spread would drop.
      client = new Client({ ...config, password: config.password, connectionTimeoutMillis: Math.max(1, Math.floor(leftMs())) });
    } catch {
      return undefined;
    }
    client.on('error', ignoreError);
    const work = (async () => {
      await client.connect();
      let writerGone = serverProcessEnded(uncertain.cause);
      if (uncertain.writerPid !== undefined) {
        const waitMs = Math.max(1, Math.floor(leftMs() - 20));
        await client.query({ text: 'SELECT pg_terminate_backend(pid, $2::bigint) FROM pg_stat_activity WHERE pid = $1::int', values: [uncertain.writerPid, waitMs] });
        const { rows } = await client.query({ text: 'SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1::int) AS alive', values: [uncertain.writerPid] });
        writerGone = (rows[0] as { alive?: boolean } | undefined)?.alive === false;
      }
      let committed: boolean | undefined;
      if (writerGone && uncertain.writerXid !== undefined) {
        const { rows } = await client.query({ text: 'SELECT txid_status($1::bigint) AS status', values: [uncertain.writerXid] });
        const status = (rows[0] as { status?: string | null } | undefined)?.status;
        committed = status === 'committed' ? true : status === 'aborted' ? false : undefined;
      }
      const { rows } = await client.query({ text: read.text, values: params as unknown[] });
      return { rows: rows as Row[], writerGone, committed };
    })();
    try {
      return await withTimeout(work, Math.max(1, leftMs()), 'settle');
    } catch {
      return undefined;
    } finally {
      work.catch(ignoreError);
      destroySocket(client);
      client.end().catch(ignoreError);
    }
  };
}

/** Clients given our listener (see `connectGuarded`): one per client for the process, however many backends share its pool. */
const guarded = new WeakSet<PoolClient>();

/**
 * A pg Pool, with the connection taken here rather than by `pool.query()`:
 * pg-pool cannot take back a query from its queue, so a statement whose
 * deadline passed while it waited there would still run when a connection
 * frees up. Here a connection that arrives too late goes back unused, and a
 * connection that stayed silent past a deadline is destroyed; idle ones last
 * heard from before that are destroyed at their next checkout rather than
 * each costing a request its deadline (a black-holed network leaves every
 * pooled socket silent, and no FIN ever closes them).
 */
function pgPoolQueryable(pool: Pool): Queryable {
  const settling = pool as unknown as { Client: new (config: unknown) => SettlingClient; options: Record<string, unknown> };
  const lastAnswerMs = new WeakMap<PoolClient, number>();
  let silentSinceMs = -Infinity;
  const markSilent = (sentMs: number) => () => {
    silentSinceMs = Math.max(silentSinceMs, sentMs);
  };
  /** When each of the pool's clients still connecting was first seen so (a black-holed network never answers its startup). */
  const connectingSinceMs = new WeakMap<object, number>();
  const stillConnecting = () => ((pool as unknown as { _clients?: Client[] })._clients ?? []).filter((client) => (client as { _connecting?: boolean })._connecting === true);
  const noteConnecting = (nowMs: number) => {
    for (const client of stillConnecting()) if (!connectingSinceMs.has(client)) connectingSinceMs.set(client, nowMs);
  };
  /**
   * Abandons connections seen opening at `sinceMs` or before (a whole
   * `timeoutMs` ago, when a checkout gave up): pg-pool without
   * `connectionTimeoutMillis` would wait for them for ever, each holding a
   * slot of the pool, so that a pool filled by connections opened into a
   * black hole never serves again. Destroying the socket fails their
   * connect, and the pool drops them.
   */
  const abandonConnecting = (sinceMs: number) => {
    for (const client of stillConnecting()) {
      const seenMs = connectingSinceMs.get(client);
      if (seenMs !== undefined && seenMs <= sinceMs) destroySocket(client);
    }
  };

  async function checkout({ deadlineMs, operation, timeoutMs }: WriteDeadline): Promise<PoolClient> {
    for (;;) {
      const connecting = connectGuarded();
      noteConnecting(performance.now());
      let client: PoolClient;
      try {
        client = await withTimeout(connecting, msUntil(deadlineMs), operation);
      } catch (error) {
        // Arrives later: give it back unused.
        connecting.then((late) => giveBack(late, undefined), ignoreError);
        if (error instanceof BackendError && error.code === 'timeout') {
          abandonConnecting(performance.now() - timeoutMs);
          throw notSent({ operation, timeoutMs });
        }
        throw error;
      }
      if (performance.now() >= deadlineMs) {
        giveBack(client, undefined);
        throw notSent({ operation, timeoutMs });
      }
      const heardMs = lastAnswerMs.get(client);
      if (heardMs !== undefined && heardMs < silentSinceMs) {
        giveBack(client, new Error('idle across a silence'));
        continue;
      }
      return client;
    }
  }

  /**
   * Checks a client out with a listener of ours for the rest of its life, never removed:
   * pg emits 'error' on a client with no listener as an exception that ends
   * the process. It is attached in pool.connect's callback, which pg-pool
   * calls in the same step as it removes its own listener: a promise would
   * resume us only after the rest of the read that handed the client over
   * (a new connection's first ReadyForQuery, or a write's reply on a client
   * released from its callback), and the server's termination can be in that
   * same read.
   */
  const connectGuarded = (): Promise<PoolClient> =>
    new Promise<PoolClient>((resolve, reject) => {
      (pool as unknown as { connect(callback: (error: Error | undefined, client: PoolClient | undefined) => void): void }).connect((error, client) => {
        if (error !== undefined && error !== null) return reject(error);
        if (!guarded.has(client!)) {
          guarded.add(client!);
          client!.on('error', ignoreError);
        }
        resolve(client!);
      });
    });

  function giveBack(client: PoolClient, broken: Error | undefined): void {
    if (broken === undefined) lastAnswerMs.set(client, performance.now());
    else destroySocket(client);
    client.release(broken);
  }

  return {
    query: async <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]> => {
      const deadlineMs = performance.now() + (deadline?.timeoutMs ?? 0);
      // Not pool.query(): its client would have no listener of ours (see connectGuarded).
      const client = deadline === undefined ? await connectGuarded() : await checkout({ timeoutMs: deadline.timeoutMs, operation: deadline.operation, deadlineMs });
      const sentMs = performance.now();
      const running = pgQuery<Row>(client, statement, params);
      try {
        const rows = deadline === undefined ? await running : await withTimeout(running, msUntil(deadlineMs), deadline.operation);
        giveBack(client, undefined);
        return rows;
      } catch (error) {
        const silent = error instanceof BackendError && error.code === 'timeout';
        if (silent) markSilent(sentMs)();
        running.catch(ignoreError);
        giveBack(client, silent || isConnectionLoss(error) ? (error as Error) : undefined);
        throw error;
      }
    },
    write: async <Row>(statement: Statement, params: readonly unknown[], deadline: WriteDeadline, lockFirst?: BoundStatement): Promise<Row[]> => {
      const client = await checkout(deadline);
      return boundedWrite<Row>(deadline, pgWrite(client, statement, params, markSilent(performance.now()), lockFirst), (broken) => giveBack(client, broken));
    },
    settle: pgSettle(settling.Client, settling.options),
    hold: async (onLost) => {
      const client = await connectGuarded();
      let held = true;
      const listener = (error: unknown) => {
        if (held) onLost?.(error);
      };
      client.on('error', listener);
      return {
        query: (statement, params) => pgQuery(client, statement, params),
        release: async (broken) => {
          if (!held) return;
          held = false;
          // The guard stays for the client's life: its socket may still report its end.
          client.removeListener('error', listener);
          client.release(broken);
        },
      };
    },
  };
}

/** A single pg Client runs one query at a time; queueing here keeps pg from warning about overlapping calls. A statement whose deadline passed in this queue is not sent. */
function pgClientQueryable(client: Client): Queryable & HeldConnection {
  let tail: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>, deadline?: WriteDeadline): Promise<T> => {
    const result = tail.then(() => {
      if (deadline !== undefined && performance.now() >= deadline.deadlineMs) throw notSent(deadline);
      return work();
    });
    tail = result.catch(ignoreError);
    return result;
  };
  const self: Queryable & HeldConnection = {
    query: <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline) => {
      const run = () => pgQuery<Row>(client, statement, params);
      if (deadline === undefined) return inTurn(run);
      return withTimeout(inTurn(run, { timeoutMs: deadline.timeoutMs, operation: deadline.operation, deadlineMs: performance.now() + deadline.timeoutMs }), deadline.timeoutMs, deadline.operation);
    },
    // A write whose turn has not come by its deadline is answered then (not sent), and skipped when its turn comes;
    // one that was sent answers by its own bound and settling, never by this timer.
    write: <Row>(statement: Statement, params: readonly unknown[], deadline: WriteDeadline, lockFirst?: BoundStatement) =>
      new Promise<Row[]>((resolve, reject) => {
        let sent = false;
        const timer = setTimeout(() => {
          if (!sent) reject(notSent(deadline));
        }, msUntil(deadline.deadlineMs));
        inTurn(() => {
          sent = true;
          clearTimeout(timer);
          return boundedWrite<Row>(deadline, pgWrite(client, statement, params, undefined, lockFirst));
        }, deadline).then(resolve, reject);
      }),
    settle: pgSettle((client as unknown as PgClientInternals).constructor, (client as unknown as PgClientInternals).connectionParameters ?? {}),
    hold: async () => self,
    release: async () => {},
  };
  return self;
}

/** postgres.js's internals of a query that {@link cancelPostgresJs} reads and, once cancelled unsent, rewrites. */
interface PostgresJsQueryInternals {
  /** The server process's key once the query was written to a connection; `null` while it is unsent. */
  state: unknown;
  /** True while it is its connection's running statement (the one the server's replies are for). */
  active: boolean;
  canceller: ((query: unknown) => Promise<void>) | null;
  cancelled: unknown;
  strings: readonly string[];
  args: readonly unknown[];
  options: Record<string, unknown>;
}

/** How often a write's cancel looks again whether the write has become its connection's running statement. */
const PIPELINED_CANCEL_RETRY_MS = 10;

/**
 * Cancels a postgres.js query when that is safe, and says whether it was
 * done (or is moot). Safe: an unsent query (dropped, never sent) and a query
 * that is its connection's running statement (a cancel request to its server
 * process; the replies stay its own). Not safe: a query written to a
 * connection behind another (pipelined). postgres.js 3.4 then skips it when
 * its turn comes while the server still answers it, so its replies would go
 * to the next query on that connection: a read would hear another's rows, a
 * write another's result. Such a query is left to run.
 *
 * An unsent query is either in a queue or the one a connection being opened
 * is for. postgres.js 3.4 drops the first, but skips the second once the
 * connection is up and then never hands that connection another query: each
 * such cancel took a connection out of the pool for good, and under a server
 * frozen for seconds (every query timed out, the reconnects' first queries
 * too) the whole pool, so service never came back. So the cancelled query is
 * left to run as an empty statement: nothing of it reaches the server, and
 * its ReadyForQuery hands the connection back to the pool.
 *
 * The cancel request's promise is handled here: `Query.cancel()` drops it,
 * and it rejects when the connection carrying the request fails (server
 * restarting, 57P01, CONNECTION_DESTROYED), which would be an unhandled
 * rejection.
 */
function cancelPostgresJs(pending: unknown): boolean {
  const query = pending as PostgresJsQueryInternals;
  const canceller = query.canceller;
  if (typeof canceller !== 'function') return true;
  if (query.state && !query.active) return false;
  query.canceller = null;
  const unsent = !query.state;
  try {
    canceller(query).catch(ignoreError);
  } catch {
    // A driver whose canceller is not a promise: nothing to observe.
  }
  if (unsent) {
    // Rejected by now (postgres.js cancels an unsent query at once): its promise hears nothing more.
    query.cancelled = null;
    query.strings = [''];
    query.args = [];
    query.options = { simple: true, prepare: false };
  }
  return true;
}

/**
 * Runs a statement on postgres.js, prepared, with each array parameter as PostgreSQL's array literal
 * (`{"a","b",NULL}`), which the statement's `$n::type[]` cast parses on the server. postgres.js serializes a
 * JavaScript array only with the array types it looks up on every new connection (`fetch_types`), a lookup whose
 * failure on a dying connection it leaves as an unhandled rejection; sent as text, sessionkit's statements work
 * with `fetch_types: false` (postgresJsOptions).
 */
function postgresJsRun(sql: Sql | TransactionSql, statement: Statement, params: readonly unknown[]): PendingQuery {
  return sql.unsafe(statement.text, params.map((param) => (Array.isArray(param) ? arrayLiteral(param) : param)) as never[], { prepare: true });
}

/**
 * The rows of a postgres.js result. postgres.js 3.4 counts a result's rows per
 * connection and resets the count only when a statement completes: after a
 * statement that failed part-way through its rows (an error on a later row, a
 * cancel, a connection terminated mid-result, whoever sent it on a shared
 * `sql`), the next result on that connection starts at the old count, with as
 * many empty slots before its first row. Those slots are dropped here: a read
 * would take one for a row, or count it.
 */
function postgresJsRows<Row>(result: unknown): Row[] {
  const rows = result as Row[];
  return rows.includes(undefined as Row) ? rows.filter((row) => row !== undefined) : rows;
}

function arrayLiteral(items: readonly unknown[]): string {
  let literal = '{';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (i > 0) literal += ',';
    literal += item === null || item === undefined ? 'NULL' : `"${String(item).replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${literal}}`;
}

function postgresJsQueryable(sql: Sql, release?: () => void): Queryable & HeldConnection {
  const query = async <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]> => {
    const pending = postgresJsRun(sql, statement, params);
    if (deadline === undefined) return postgresJsRows<Row>(await pending);
    // Its late answer or error is nobody's: observed here so that it is never an unhandled rejection.
    pending.catch(ignoreError);
    return postgresJsRows<Row>(
      await withTimeout(pending, deadline.timeoutMs, deadline.operation).catch((error: unknown) => {
        if (error instanceof BackendError) cancelPostgresJs(pending);
        throw error;
      }),
    );
  };
  /**
   * postgres.js runs each query in its own implicit transaction and exposes no
   * pipeline under one Sync, so the server-side bound is its cancel request,
   * sent when the bound runs out: PostgreSQL cancels the statement whatever it
   * waits for (57014, rolled back). A write still pipelined behind another
   * statement then cannot be cancelled safely (see cancelPostgresJs): the
   * cancel waits until it is the connection's running statement, or its
   * answer comes. postgres.js does not expose the server process, so
   * settling cannot end it.
   */
  const write = <Row>(statement: Statement, params: readonly unknown[], deadline: WriteDeadline, lockFirst?: BoundStatement): Promise<Row[]> =>
    boundedWrite<Row>(
      deadline,
      (boundMs, reply) => {
        if (lockFirst !== undefined) {
          // After a lock, in one transaction: postgres.js's `begin` with the bound, the lock and the write pipelined
          // (BEGIN and COMMIT are a round trip each). The bound is the server's own statement_timeout here, set
          // inside the transaction, half each for the lock and the write: a cancel could reach the wrong statement.
          const pending = sql.begin((tx) => [
            tx.unsafe(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.floor(boundMs / 2))] as never[]),
            postgresJsRun(tx, lockFirst.statement, lockFirst.params),
            postgresJsRun(tx, statement, params),
          ]) as Promise<unknown[][]>;
          pending.then((results) => reply(null, postgresJsRows<Row>(results[2])), (error: unknown) => reply(error, undefined));
          return {};
        }
        const pending = postgresJsRun(sql, statement, params);
        pending.then((rows) => reply(null, postgresJsRows<Row>(rows)), (error: unknown) => reply(error, undefined));
        return {
          atBound: (waiting) => {
            const cancelWhenSafe = () => {
              if (waiting() && !cancelPostgresJs(pending)) setTimeout(cancelWhenSafe, PIPELINED_CANCEL_RETRY_MS);
            };
            cancelWhenSafe();
          },
        };
      },
    );
  const settle = async <Row>(uncertain: UncertainWrite, read: Statement, params: readonly unknown[], deadlineMs: number): Promise<Settlement<Row> | undefined> => {
    const leftMs = deadlineMs - performance.now();
    if (leftMs < 10) return undefined;
    try {
      const rows = await query<Row>(read, params, { timeoutMs: leftMs, operation: 'settle' });
      return { rows, writerGone: serverProcessEnded(uncertain.cause) };
    } catch {
      return undefined;
    }
  };
  return {
    query,
    write,
    settle,
    hold: async () => {
      // postgres.js 3.4 with `fetch_types: false` (postgresJsOptions) never hands reserve() a connection it opens for
      // it, while one a query has just left open is handed at once: so a query first.
      await sql.unsafe('SELECT 1');
      const reserved = await sql.reserve();
      return postgresJsQueryable(reserved, () => reserved.release());
    },
    release: async () => release?.(),
  };
}

/**
 * PGlite runs one statement at a time in this process and cannot take one
 * back from its queue: a deadline ends the wait only. A write's `lockFirst`
 * is not needed: no other statement runs between its snapshot and its end. A write whose deadline
 * passes is uncertain (it will still run), and there is no other connection
 * to settle it on.
 */
function pgliteQueryable(db: PGliteInterface): Queryable & HeldConnection {
  const run = <Row>(statement: Statement, params: readonly unknown[]) => db.query<Row>(statement.text, params as unknown[]).then((result) => result.rows);
  const self: Queryable & HeldConnection = {
    query: <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline) => {
      const pending = run<Row>(statement, params);
      return deadline === undefined ? pending : withTimeout(pending, deadline.timeoutMs, deadline.operation);
    },
    write: <Row>(statement: Statement, params: readonly unknown[], deadline: WriteDeadline) => {
      const pending = run<Row>(statement, params);
      return withTimeout(pending, msUntil(deadline.deadlineMs), deadline.operation).catch((error: unknown) => {
        if (error instanceof BackendError && error.code === 'timeout') {
          pending.catch(ignoreError);
          throw new UncertainWrite('timeout', undefined, `PGlite did not finish ${deadline.operation} within ${deadline.timeoutMs} ms`);
        }
        throw error;
      });
    },
    settle: async () => undefined,
    hold: async () => self,
    release: async () => {},
  };
  return self;
}

/** Wraps any supported driver handle; a handle of another kind is a `TypeError`. */
export function toQueryable(db: PostgresDatabase): Queryable {
  // postgres.js's `sql` is the only one that is itself a function (a tagged template).
  if (typeof db === 'function' && hasShape(db, { unsafe: 'function' })) return postgresJsQueryable(db as Sql);
  if (hasShape(db, { exec: 'function', waitReady: 'object' })) return pgliteQueryable(db as PGliteInterface);
  if (hasShape(db, { connect: 'function', totalCount: 'number' })) return pgPoolQueryable(db as Pool);
  if (hasShape(db, { query: 'function', connect: 'function' })) return pgClientQueryable(db as Client);
  throw new TypeError('PostgresBackend needs a pg Pool or Client, a postgres.js sql, or a PGlite instance');
}

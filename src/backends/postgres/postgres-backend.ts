import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions, type KeyStorageOptions } from '../../core/base-backend.js';
import { Batcher, MICROTASK, type BatchCall } from '../../core/batcher.js';
import type {
  ClearByOwnerOptions,
  CompareAndSetResult,
  GetResult,
  OwnedSession,
  OwnerIndexBackend,
  OwnerIndexOptions,
} from '../../core/contract.js';
import { BackendError, OwnerSessionLimitError } from '../../core/errors.js';
import { isWellFormedKey, KEY_LENGTH, newWriteToken } from '../../core/keys.js';
import { assertWholeNumberOption, hasShape } from '../../core/validate.js';
import type { EnumerableBackend, LiveSession } from '../../core/enumeration.js';
import { toBackendError, withTimeout } from './failures.js';
import { PURGE_STATEMENT_TARGET_MS, purgeInBatches, Pruner } from './pruner.js';
import { toQueryable, UncertainWrite, type BoundStatement, type PostgresDatabase, type Queryable, type Settlement, type Statement } from './queryable.js';
import { schemaStatement } from './schema.js';
import { MAX_BATCH_SIZE, MAX_BATCHES_IN_FLIGHT, NO_OWNER_LIMIT, OWNER_STEP_ROWS, statementsFor, type Statements, type WriteStatements } from './statements.js';
import { quoteTableName } from './table-name.js';
import { reportStatementsFor, type ReportStatements, type SessionOwnerRow, type SessionsPerOwner, type TableDescription, type TableSizes } from './table-report.js';

/** Options of {@link PostgresBackend}. */
export interface PostgresBackendOptions extends BackendOptions, KeyStorageOptions, OwnerIndexOptions {
  /** Table name, `name` or `schema.name`, plain identifiers only; default `session`. */
  table?: string;
  /** Every operation settles within this many milliseconds, rejecting with a `timeout` BackendError otherwise. Default 5000. */
  timeoutMs?: number;
  /**
   * Expired rows are deleted every this many seconds (±20 % jitter) by one
   * instance per table across all processes (an advisory lock elects it; it
   * keeps one pool connection for the lock). Default 900 (15 minutes, as
   * connect-pg-simple); `false` or `0` turns pruning off, for deployments that
   * run `sessionkit purge` from cron. With the default, a pg Pool of one
   * connection does not prune (set it explicitly to get a `TypeError` instead).
   */
  pruneIntervalSeconds?: number | false;
  /** Most rows one pruning statement deletes; default 1000. */
  pruneBatchSize?: number;
}

/** Options of {@link PostgresBackend.purgeExpired}. */
export interface PurgeOptions {
  /** Most rows one DELETE statement removes; default the backend's `pruneBatchSize`. */
  batchSize?: number;
  /**
   * Milliseconds one statement should take, default 25: batches start at 100
   * rows, double while statements take under half this, and shrink in
   * proportion when one takes longer, so that no statement holds its row
   * locks for long on a busy or slow server.
   */
  statementTargetMs?: number;
  /** Called after each batch with the number of rows deleted so far (for progress reports). */
  onBatch?: (deletedSoFar: number) => void;
}

interface Write {
  key: string;
  value: string | null;
  expirySeconds: number;
}

interface Swap {
  key: string;
  expected: string | null;
  value: string;
  expirySeconds: number;
}

interface SessionRow {
  key: string;
  value: string | null;
  live: boolean;
  period: number;
}

/** What the table offers beyond ocaml-session's columns. */
interface Columns {
  owner: boolean;
  writeTokens: boolean;
}

/** What the settlement read found for one key. */
interface TokenRow {
  key: string;
  mine: boolean;
  full: boolean;
}

/** The kinds of write, as settling tells their outcomes apart. */
type WriteKind = 'generate' | 'refusableGenerate' | 'set' | 'compareAndSet' | 'put' | 'clear';

/**
 * Whether a write whose answer was lost was applied, from what settling
 * learnt: whether its transaction committed (`committed`, when its id was
 * known), and what the read found for its key (`row`, undefined when the key
 * has no row) once its server process is gone (`writerGone`). A token is only
 * ever pushed out of a row's list by later writes, so its absence from a list
 * that is not full means it was never there.
 */
function fateOf(kind: WriteKind, row: TokenRow | undefined, writerGone: boolean, committed: boolean | undefined): 'applied' | 'not applied' | 'unknown' {
  if (committed === false) return 'not applied';
  // A committed statement did what it does to every row it matched; only a compare-and-set, and a login the
  // owner's limit may have refused, may have matched none.
  if (committed === true && kind !== 'compareAndSet' && kind !== 'refusableGenerate') return 'applied';
  switch (kind) {
    case 'generate':
    case 'refusableGenerate':
      // A fresh random key: nobody else writes it, and an unexpired row is never pruned.
      return row !== undefined ? 'applied' : writerGone ? 'not applied' : 'unknown';
    case 'clear':
      return row === undefined ? 'applied' : writerGone ? 'not applied' : 'unknown';
    case 'set':
      // set never creates: on a key without a row it changes nothing, whether it ran or not.
      if (row === undefined) return 'applied';
      break;
    case 'compareAndSet':
    case 'put':
      if (row === undefined) return 'unknown';
      break;
  }
  if (row.mine) return 'applied';
  return writerGone && !row.full ? 'not applied' : 'unknown';
}

/** Rows per statement of {@link PostgresBackend.liveSessions}. */
const LIVE_PAGE_ROWS = 500;

/** Default of `pruneIntervalSeconds`: connect-pg-simple's 15 minutes. */
export const DEFAULT_PRUNE_INTERVAL_SECONDS = 900;

// Pools that `connect()` opened for a backend, ended by its close(): "owner" elsewhere in this file means a user id.
const poolEnders = new WeakMap<PostgresBackend, () => Promise<void>>();

/** Makes `backend.close()` also run `end` (used by `connect()`, which opened the pool itself). */
export function ownResource(backend: PostgresBackend, end: () => Promise<void>): void {
  poolEnders.set(backend, end);
}

/** How long `ensureSchema()` waits for its DDL at least: one minute. */
export const SCHEMA_TIMEOUT_MS = 60_000;

/**
 * Sessions in a PostgreSQL table with ocaml-session's columns (`session_key
 * char(40)`, `expire_date timestamp(2) with time zone`, `session_data text`),
 * through a pg Pool or Client, postgres.js or PGlite that the caller owns.
 *
 * Expiry is decided by the database's `now()` alone. Operations issued in the
 * same tick share one statement per kind (one round trip for up to 32 gets),
 * each keeping its own result. Works unchanged on a table made with
 * ocaml-session's exact DDL (no primary key); sessions by owner need the `owner` and
 * `created_at` columns that `ensureSchema()` adds.
 */
export class PostgresBackend extends BaseBackend implements OwnerIndexBackend, EnumerableBackend {
  /** The quoted table name used in SQL. */
  readonly table: string;
  readonly timeoutMs: number;
  readonly pruneBatchSize: number;
  readonly #db: Queryable;
  /** The table as given (unquoted), for the hint on a missing table. */
  readonly #tableName: string;
  #columns: Promise<Columns> | undefined;
  readonly #statements: Statements;
  readonly #pruner: Pruner | undefined;
  #closed = false;

  readonly #gets: Batcher<string, GetResult>;
  readonly #generates: Batcher<Write, void>;
  readonly #sets: Batcher<Write, void>;
  readonly #compareAndSets: Batcher<Swap, CompareAndSetResult>;
  readonly #clears: Batcher<string, void>;
  readonly #puts: Batcher<Write, void>;

  constructor(db: PostgresDatabase, options: PostgresBackendOptions = {}) {
    super(options, { hashKeys: options.hashKeys });
    const { table = 'session', timeoutMs = 5000, pruneIntervalSeconds = DEFAULT_PRUNE_INTERVAL_SECONDS, pruneBatchSize = 1000 } = options;
    this.table = quoteTableName(table);
    this.#tableName = table;
    assertWholeNumberOption(timeoutMs, 'timeoutMs', 1);
    assertWholeNumberOption(pruneBatchSize, 'pruneBatchSize', 1);
    this.timeoutMs = timeoutMs;
    this.pruneBatchSize = pruneBatchSize;
    this.#db = toQueryable(db);
    guardConnectionErrors(db, (error) => this.emit({ type: 'error', store: this.storeName, during: 'idle-connection', error }));
    // One batch stream per kind of statement; see MICROTASK for why PostgreSQL flushes at the end of the job.
    const batching = {
      maxBatchSize: MAX_BATCH_SIZE,
      maxBatchesInFlight: MAX_BATCHES_IN_FLIGHT,
      timeoutMs,
      timeoutError: () => new BackendError('timeout', `PostgreSQL did not answer within ${timeoutMs} ms (queued behind other statements; not sent)`),
      schedule: MICROTASK,
    };
    // A write is answered by its dispatch, which learns its fate before its deadline (settling it if need be).
    const writeBatching = { ...batching, dispatchKeepsDeadlines: true };
    this.#gets = new Batcher<string, GetResult>((keys, call) => this.#runGets(keys, call), batching);
    this.#generates = new Batcher<Write, void>((writes, call) => this.#runWrites('generate', writes, call), writeBatching);
    this.#sets = new Batcher<Write, void>((writes, call) => this.#runWrites('set', writes, call), writeBatching);
    this.#compareAndSets = new Batcher<Swap, CompareAndSetResult>((swaps, call) => this.#runCompareAndSets(swaps, call), writeBatching);
    this.#clears = new Batcher<string, void>((keys, call) => this.#runClears(keys, call), writeBatching);
    this.#puts = new Batcher<Write, void>((writes, call) => this.#runWrites('put', writes, call), writeBatching);
    this.#statements = statementsFor(this.table, `sessionkit:prune:${this.table}`);
    const pruning = pruneIntervalSeconds !== false && pruneIntervalSeconds !== 0;
    if (pruning) assertWholeNumberOption(pruneIntervalSeconds, 'pruneIntervalSeconds', 1);
    const poolMax = (db as { options?: { max?: number } }).options?.max;
    const poolTooSmall = typeof poolMax === 'number' && poolMax < 2;
    if (poolTooSmall && options.pruneIntervalSeconds) {
      throw new TypeError('pruneIntervalSeconds needs a pool of at least 2 connections: the pruning instance keeps one for its lock (or set pruneIntervalSeconds: false)');
    }
    if (pruning && !poolTooSmall) {
      this.#pruner = new Pruner(this.#db, this.#statements, {
        intervalSeconds: pruneIntervalSeconds,
        batchSize: pruneBatchSize,
        timeoutMs,
        table,
        store: this.storeName,
        onEvent: (event) => this.emit(event),
      });
    }
  }

  /**
   * Creates the table if missing: ocaml-session's columns, `session_key` as primary
   * key, an index on `expire_date`, and the `owner`, `created_at` and
   * `write_tokens` columns (added to an existing table too). Idempotent and
   * safe to run from many processes at once; an existing table (even
   * ocaml-session's exact DDL) is kept.
   * It waits up to {@link SCHEMA_TIMEOUT_MS} (or `timeoutMs` if longer), not
   * `timeoutMs`: DDL queues behind the locks of running statements and may
   * build an index, which a request's deadline was never meant to bound.
   */
  async ensureSchema(): Promise<void> {
    this.#assertOpen('ensureSchema');
    this.#columns = undefined;
    await withTimeout(this.#db.query(schemaStatement(this.table), []), Math.max(this.timeoutMs, SCHEMA_TIMEOUT_MS), 'ensureSchema').catch((error: unknown) => {
      throw toBackendError(error, 'ensureSchema', { table: this.#tableName });
    });
  }

  /** The owner's live sessions, oldest first, read {@link OWNER_STEP_ROWS} per statement (each within `timeoutMs`), so an owner with a million sessions is listed in bounded steps. */
  listByOwner(owner: string): Promise<OwnedSession[]> {
    return this.ownerList(owner, (checked) => this.#listByOwner(checked));
  }

  async #listByOwner(owner: string): Promise<OwnedSession[]> {
    await this.#requireOwnerColumn('listByOwner');
    const sessions: OwnedSession[] = [];
    for await (const row of this.#ownerRows(owner, 'listByOwner')) {
      sessions.push({ keyDigest: this.digestOfStored(row.key.trimEnd()), expiresInSeconds: row.period, createdAt: new Date(row.createdAt), value: row.value });
    }
    return sessions;
  }

  /** The owner's live rows in (created_at, key) order, one bounded page per statement. */
  async *#ownerRows(owner: string, operation: string): AsyncIterable<{ key: string; createdAt: Date; period: number; value: string | null }> {
    let afterCreatedAt = '-infinity';
    let afterKey = '';
    for (;;) {
      const rows = await this.#query<{ key: string; createdAt: Date; createdAtText: string; period: number; value: string | null }>(
        this.#statements.listByOwnerPage,
        [owner, afterCreatedAt, afterKey, OWNER_STEP_ROWS],
        operation,
      );
      yield* rows;
      const last = rows.at(-1);
      if (last === undefined || rows.length < OWNER_STEP_ROWS) return;
      afterCreatedAt = last.createdAtText;
      afterKey = last.key;
    }
  }

  /**
   * Ends the owner's sessions (but `except`), {@link OWNER_STEP_ROWS} rows per
   * statement, each its own transaction with its own deadline, until none is
   * left: an owner with a million sessions is logged out in bounded steps, and
   * a failure part-way leaves the rest for a retry. Resolves to the number of
   * live sessions ended.
   */
  clearByOwner(owner: string, options?: ClearByOwnerOptions): Promise<number> {
    return this.ownerClear(owner, options, (checked, except) => this.#clearByOwner(checked, except));
  }

  async #clearByOwner(owner: string, except: string | undefined): Promise<number> {
    await this.#requireOwnerColumn('clearByOwner');
    const exceptKey = except !== undefined && isWellFormedKey(except) ? this.storedKey(except) : null;
    let deletedCount = 0;
    for (;;) {
      const deadlineMs = performance.now() + this.timeoutMs;
      let row: { count: number; live: number } | undefined;
      try {
        [row] = await this.#send<{ count: number; live: number }>(this.#statements.clearByOwnerBatch, [owner, exceptKey, OWNER_STEP_ROWS], 'clearByOwner', deadlineMs);
      } catch (error) {
        // A step whose answer was lost: once its server process is gone, the next step deletes whatever it left.
        const settlement = await this.#settlement(error, this.#statements.tokenless.readTokens, [[], ''], 'clearByOwner', deadlineMs);
        if (settlement === undefined || !settlement.writerGone) throw this.#indeterminate(error as UncertainWrite, 'clearByOwner');
        continue;
      }
      deletedCount += row?.live ?? 0;
      if ((row?.count ?? 0) < OWNER_STEP_ROWS) break;
    }
    return deletedCount;
  }

  clearOwnedSession(owner: string, keyDigest: string): Promise<boolean> {
    return this.ownerClearOne(owner, keyDigest, (checked, digest) => this.#clearOwnedSession(checked, digest));
  }

  async #clearOwnedSession(owner: string, keyDigest: string): Promise<boolean> {
    await this.#requireOwnerColumn('clearOwnedSession');
    // The owner's live rows, then the one row by its stored key: an owner is fixed per key, so the pair cannot go stale.
    let stored: string | undefined;
    for await (const row of this.#ownerRows(owner, 'clearOwnedSession')) {
      if (this.digestOfStored(row.key.trimEnd()) === keyDigest) {
        stored = row.key;
        break;
      }
    }
    if (stored === undefined) return false;
    await this.#clears.submit(stored.trimEnd());
    return true;
  }

  /** How many rows are live (`expire_date > now()`): one `count(*)`, a scan of the table or its expiry index. */
  async countLive(): Promise<number> {
    const [row] = await this.reported('countLive', this.#query<{ count: number }>(this.#statements.countLive, [], 'countLive'));
    return row?.count ?? 0;
  }

  /** Every live row, {@link LIVE_PAGE_ROWS} per statement in key order (keyset pagination), each page read when the iteration reaches it. */
  async *liveSessions(): AsyncIterable<LiveSession> {
    let after = '';
    for (;;) {
      const rows = await this.reported('liveSessions', this.#query<{ key: string; value: string | null; period: number }>(this.#statements.livePage, [after, LIVE_PAGE_ROWS], 'liveSessions'));
      for (const row of rows) yield { storedKey: row.key.trimEnd(), value: row.value, expiresInSeconds: row.period };
      const last = rows.at(-1);
      if (last === undefined || rows.length < LIVE_PAGE_ROWS) return;
      after = last.key;
    }
  }

  /** Deletes every row of the table, `pruneBatchSize` per statement so that no statement holds many row locks; resolves to how many live rows went. */
  clearAll(): Promise<number> {
    return this.pruning('clearAll', async () => {
      let live = 0;
      for (;;) {
        const [row] = await this.#query<{ count: number; live: number }>(this.#statements.clearAllBatch, [this.pruneBatchSize], 'clearAll');
        live += row?.live ?? 0;
        if ((row?.count ?? 0) < this.pruneBatchSize) return live;
      }
    });
  }

  /**
   * Deletes every expired row in batches of at most `batchSize`, sized to take
   * about `statementTargetMs` each so that no statement holds locks for long;
   * rows a request is updating are skipped until the next purge. Each batch
   * commits without waiting for its WAL flush (`synchronous_commit` off for
   * that transaction only: a crash can only undo deleting expired rows), so
   * call it outside a transaction of your own. Resolves to the number of rows
   * deleted.
   */
  async purgeExpired(options: PurgeOptions = {}): Promise<number> {
    const { batchSize = this.pruneBatchSize, statementTargetMs = PURGE_STATEMENT_TARGET_MS, onBatch } = options;
    assertWholeNumberOption(batchSize, 'batchSize', 1);
    assertWholeNumberOption(statementTargetMs, 'statementTargetMs', 1);
    this.#assertOpen('purgeExpired');
    return purgeInBatches(this.#db, this.#statements, { batchSize, statementTargetMs, timeoutMs: this.timeoutMs, onBatch, table: this.#tableName });
  }

  // Reports for operators (the `sessionkit` command): the catalog, counts and sizes. No part of the session contract.
  #reportStatements: ReportStatements | undefined;

  get #report(): ReportStatements {
    return (this.#reportStatements ??= reportStatementsFor(this.table));
  }

  /** What the table is (whether it exists, its columns and indexes, whether it holds any row), from the catalog. */
  describeTable(): Promise<TableDescription> {
    return this.reported('describeTable', this.#describeTable());
  }

  async #describeTable(): Promise<TableDescription> {
    const [found] = await this.#query<{ present: boolean }>(this.#report.exists, [this.table], 'describeTable');
    if (found?.present !== true) return { exists: false, columns: [], indexes: [], empty: true };
    const [columns, indexes, [emptiness]] = await Promise.all([
      this.#query<{ name: string }>(this.#report.columns, [this.table], 'describeTable'),
      this.#query<{ name: string }>(this.#report.indexes, [this.table], 'describeTable'),
      this.#query<{ empty: boolean }>(this.#report.isEmpty, [], 'describeTable'),
    ]);
    return { exists: true, columns: columns.map((row) => row.name), indexes: indexes.map((row) => row.name), empty: emptiness?.empty === true };
  }

  /** Whether the table has the `owner` and `created_at` columns that sessions by owner need (`ensureSchema()` adds them); the same check every owner operation makes. */
  hasOwnerColumns(): Promise<boolean> {
    return this.reported('hasOwnerColumns', this.#columnsWithin(performance.now() + this.timeoutMs).then((columns) => columns.owner));
  }

  /** How many rows are expired but not yet deleted (`expire_date <= now()`): what `purgeExpired()` would delete now. */
  async countExpired(): Promise<number> {
    const [row] = await this.reported('countExpired', this.#query<{ count: number }>(this.#report.countExpired, [], 'countExpired'));
    return row?.count ?? 0;
  }

  /** Live sessions per owner; rejects with `schema_outdated` on a table without the owner columns. */
  sessionsPerOwner(): Promise<SessionsPerOwner> {
    return this.reported('sessionsPerOwner', this.#sessionsPerOwner());
  }

  async #sessionsPerOwner(): Promise<SessionsPerOwner> {
    await this.#requireOwnerColumn('sessionsPerOwner');
    const [row] = await this.#query<SessionsPerOwner>(this.#report.perOwner, [], 'sessionsPerOwner');
    return row ?? { owners: 0, sessionsWithOwner: 0, p50: null, p90: null, p99: null, max: null };
  }

  /** Bytes the table and its indexes take on disk. */
  async storageBytes(): Promise<TableSizes> {
    const [row] = await this.reported('storageBytes', this.#query<TableSizes>(this.#report.sizes, [this.table], 'storageBytes'));
    return { tableBytes: row?.tableBytes ?? 0, indexBytes: row?.indexBytes ?? 0, totalBytes: row?.totalBytes ?? 0 };
  }

  /** The owner and creation time of the live session of `key`, undefined when there is none; rejects with `schema_outdated` on a table without the owner columns. */
  sessionOwner(key: string): Promise<SessionOwnerRow | undefined> {
    return this.withKey('sessionOwner', key, undefined, (checked) => this.#sessionOwner(checked));
  }

  async #sessionOwner(key: string): Promise<SessionOwnerRow | undefined> {
    await this.#requireOwnerColumn('sessionOwner');
    const [row] = await this.#query<SessionOwnerRow>(this.#report.sessionOwner, [this.storedKey(key)], 'sessionOwner');
    return row === undefined ? undefined : { owner: row.owner, createdAt: row.createdAt === null ? null : new Date(row.createdAt) };
  }

  /** Stops pruning and, for a backend made by `connect()`, ends its pool. A client passed to the constructor stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pruner?.stop();
    await poolEnders.get(this)?.();
  }

  protected override get storeName(): string {
    return `postgres:${this.table}`;
  }

  /**
   * Creates or replaces the session of `key` (see {@link Backend.put}):
   * one `INSERT … ON CONFLICT DO UPDATE` per batch. Needs a unique index on
   * `session_key`, which `ensureSchema()` creates with the table; on a table
   * without one (ocaml-session's DDL) it rejects with `schema_outdated`.
   */
  protected storePut(key: string, value: string, expirySeconds: number): Promise<void> {
    // A put that ends the session is a clear: nothing of it is left in the table.
    if (expirySeconds <= 0) return this.storeClear(key);
    return this.#puts.submit({ key: this.storedKey(key), value, expirySeconds });
  }

  protected async storeGenerate(key: string, value: string | null, expirySeconds: number, owner?: string): Promise<void> {
    if (expirySeconds <= 0) return;
    if (owner === undefined) return this.#generates.submit({ key: this.storedKey(key), value, expirySeconds });
    const deadlineMs = performance.now() + this.timeoutMs;
    const columns = await this.#requireOwnerColumn('generate({ owner })', deadlineMs);
    const statements = this.#writeStatements(columns);
    const limit = this.maxSessionsPerOwner;
    const keep = limit === undefined ? NO_OWNER_LIMIT : limit - 1;
    const refuse = this.onMaxSessionsPerOwner === 'refuse';
    const stored = this.storedKey(key);
    const token = newWriteToken();
    // Logins of one owner queue on its lock (only with a limit: without one there is nothing to count).
    const lock = limit === undefined ? undefined : { statement: this.#statements.lockOwner, params: [this.table, owner] };
    let inserted: number | undefined;
    try {
      [{ inserted } = { inserted: 0 }] = await this.#send<{ inserted: number }>(statements.generateOwned, [stored, expirySeconds, value, owner, keep, token, refuse], 'generate', deadlineMs, lock);
    } catch (error) {
      const [answer] = await this.#settled(error, refuse ? 'refusableGenerate' : 'generate', statements, [stored], token, deadlineMs);
      if (answer instanceof Error) throw answer;
    }
    if (inserted === 0 && limit !== undefined) throw new OwnerSessionLimitError(limit);
  }

  protected storeGet(key: string): Promise<GetResult> {
    return this.#gets.submit(this.storedKey(key));
  }

  protected storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    return this.#sets.submit({ key: this.storedKey(key), value, expirySeconds });
  }

  protected storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    return this.#compareAndSets.submit({ key: this.storedKey(key), expected, value, expirySeconds });
  }

  protected storeClear(key: string): Promise<void> {
    return this.#clears.submit(this.storedKey(key));
  }

  async #runGets(keys: string[], call: BatchCall): Promise<GetResult[]> {
    call.expiryError = () => new BackendError('timeout', `PostgreSQL did not answer get within ${this.timeoutMs} ms`);
    const rows =
      keys.length === 1
        ? await this.#query<SessionRow>(this.#statements.getOne, keys, 'get', call.budgetMs)
        : await this.#query<SessionRow>(this.#statements.getMany, [[...new Set(keys)]], 'get', call.budgetMs);
    const byKey = new Map<string, SessionRow>();
    // ocaml-session's table may hold one key twice: a live row wins over an expired one.
    for (const row of rows) if (row.live || !byKey.has(row.key)) byKey.set(row.key, row);
    return keys.map((key) => {
      const row = byKey.get(key.padEnd(KEY_LENGTH));
      if (row === undefined) return NOT_FOUND;
      if (!row.live) {
        if (this.hasListener) this.emit({ type: 'expired-on-read', store: this.storeName, keyDigest: this.digestOfStored(key) });
        return NOT_FOUND;
      }
      return row.value === null ? NOT_SET : { ok: true, value: row.value, period: row.period };
    });
  }

  /** A batch of generates, sets or puts: one statement (a lone generate or set in its one-row form), settled when its reply was lost. */
  async #runWrites(kind: 'generate' | 'set' | 'put', writes: Write[], call: BatchCall): Promise<(void | Error)[]> {
    const columns = await this.#columnsWithin(call.deadlineMs);
    const statements = this.#writeStatements(columns);
    const token = newWriteToken();
    // An UPDATE applies one joined row per target row, and ON CONFLICT DO UPDATE touches a row once per statement:
    // keep the last write of each key, as if run in order.
    const sent = kind === 'generate' ? writes : [...new Map(writes.map((w) => [w.key, w])).values()];
    const [one, many] =
      kind === 'generate'
        ? [statements.generateOne, statements.generateMany]
        : kind === 'set'
          ? [statements.setOne, statements.setMany]
          : [undefined, columns.owner ? statements.putManyClearingOwner : statements.putMany];
    try {
      await this.#sendRows(one, many, sent.map((w) => [w.key, w.expirySeconds, w.value]), [token], kind, call.deadlineMs);
      return [];
    } catch (error) {
      return this.#settled(error, kind, statements, writes.map((w) => w.key), token, call.deadlineMs);
    }
  }

  async #runClears(keys: string[], call: BatchCall): Promise<(void | Error)[]> {
    try {
      await this.#sendRows(this.#statements.clearOne, this.#statements.clearMany, [...new Set(keys)].map((key) => [key]), [], 'clear', call.deadlineMs);
      return [];
    } catch (error) {
      // A clear leaves no token: whether its row is still there says it all.
      return this.#settled(error, 'clear', this.#statements.tokenless, keys, '', call.deadlineMs);
    }
  }

  async #runCompareAndSets(swaps: Swap[], call: BatchCall): Promise<(CompareAndSetResult | Error)[]> {
    const statements = this.#writeStatements(await this.#columnsWithin(call.deadlineMs));
    const token = newWriteToken();
    // One swap per key per statement (an UPDATE joins each row once); a second swap of the
    // same key raced the first one, so it answers conflict and its caller reads again.
    const first = new Map<string, Swap>();
    for (const swap of swaps) if (!first.has(swap.key)) first.set(swap.key, swap);
    const sent = [...first.values()];
    let answers: (CompareAndSetResult | Error)[];
    try {
      const rows = await this.#sendRows<{ key: string; updated: boolean; live: boolean }>(
        statements.compareAndSetOne,
        statements.compareAndSetMany,
        sent.map((s) => [s.key, s.expected, s.value, s.expirySeconds]),
        [token],
        'compareAndSet',
        call.deadlineMs,
      );
      const byKey = new Map(rows.map((row) => [row.key, row]));
      answers = sent.map((swap) => {
        const row = byKey.get(swap.key.padEnd(KEY_LENGTH));
        return row?.updated ? 'ok' : row?.live ? 'conflict' : 'NotFound';
      });
    } catch (error) {
      answers = await this.#settled(error, 'compareAndSet', statements, sent.map((s) => s.key), token, call.deadlineMs, 'ok');
    }
    const answerOf = new Map(sent.map((swap, i) => [swap, answers[i]!]));
    return swaps.map((swap): CompareAndSetResult | Error => answerOf.get(swap) ?? 'conflict');
  }

  /**
   * The answers of a batch whose write failed: a BackendError from the server
   * rejects the batch (nothing was applied); an {@link UncertainWrite} is
   * settled by reading the token back once its server process is gone, and
   * each operation gets `applied` (or its error: not applied, or
   * `indeterminate` when that could not be learnt by `deadlineMs`).
   */
  async #settled<Applied = void>(
    error: unknown,
    kind: WriteKind,
    statements: WriteStatements,
    keys: readonly string[],
    token: string,
    deadlineMs: number,
    applied?: Applied,
  ): Promise<(Applied | Error)[]> {
    const settlement = await this.#settlement<TokenRow>(error, statements.readTokens, [[...new Set(keys)], token], kind, deadlineMs);
    const uncertain = error as UncertainWrite;
    if (settlement === undefined) return keys.map(() => this.#indeterminate(uncertain, kind));
    const byKey = new Map(settlement.rows.map((row) => [row.key.trimEnd(), row]));
    return keys.map((key) => {
      switch (fateOf(kind, byKey.get(key.trimEnd()), settlement.writerGone, settlement.committed)) {
        case 'applied':
          return applied as Applied;
        case 'not applied':
          return new BackendError(uncertain.reason, `${uncertain.message} (settled: not applied)`, { cause: uncertain.cause });
        case 'unknown':
          return this.#indeterminate(uncertain, kind);
      }
    });
  }

  /** Rethrows anything but an {@link UncertainWrite} as a BackendError; for one, what the settlement read found (undefined: nothing learnt in time). */
  async #settlement<Row>(error: unknown, read: Statement, params: readonly unknown[], operation: string, deadlineMs: number): Promise<Settlement<Row> | undefined> {
    if (!(error instanceof UncertainWrite)) throw toBackendError(error, operation, { table: this.#tableName });
    return this.#db.settle<Row>(error, read, params, deadlineMs);
  }

  #indeterminate(uncertain: UncertainWrite, operation: string): BackendError {
    return new BackendError('indeterminate', `${uncertain.message}, and whether ${operation} was applied could not be learnt in time (it may have been, once)`, {
      cause: uncertain.cause ?? uncertain,
    });
  }

  /** Sends one bounded write (see Queryable.write); a server's refusal becomes a BackendError, an unknown fate stays an UncertainWrite. */
  async #send<Row>(statement: Statement, params: readonly unknown[], operation: string, deadlineMs: number, lockFirst?: BoundStatement): Promise<Row[]> {
    this.#assertOpen(operation);
    try {
      return await this.#db.write<Row>(statement, params, { deadlineMs, timeoutMs: this.timeoutMs, operation }, lockFirst);
    } catch (error) {
      if (error instanceof UncertainWrite) throw error;
      throw toBackendError(error, operation, { table: this.#tableName });
    }
  }

  /**
   * Sends a write batch: a lone row as the one-row statement (no arrays: cheaper to bind and to plan) when there
   * is one, else as the many-row one with a column array per parameter; `extra` parameters (the token) follow.
   */
  #sendRows<Row>(one: Statement | undefined, many: Statement, rows: readonly (readonly unknown[])[], extra: readonly unknown[], operation: string, deadlineMs: number): Promise<Row[]> {
    if (one !== undefined && rows.length === 1) return this.#send<Row>(one, [...rows[0]!, ...extra], operation, deadlineMs);
    return this.#send<Row>(many, [...rows[0]!.map((_, i) => rows.map((row) => row[i])), ...extra], operation, deadlineMs);
  }

  #writeStatements(columns: Columns): WriteStatements {
    return columns.writeTokens ? this.#statements.tokened : this.#statements.tokenless;
  }

  async #query<Row>(statement: Statement, params: readonly unknown[], operation: string, budgetMs = this.timeoutMs): Promise<Row[]> {
    this.#assertOpen(operation);
    if (budgetMs <= 0) throw new BackendError('timeout', `PostgreSQL did not answer ${operation} within ${this.timeoutMs} ms (not sent)`);
    try {
      return await this.#db.query<Row>(statement, params, { timeoutMs: budgetMs, operation });
    } catch (error) {
      throw toBackendError(error, operation, { table: this.#tableName });
    }
  }

  /** Owner features need the columns `ensureSchema()` adds; a table with only ocaml-session's columns says so clearly. */
  async #requireOwnerColumn(operation: string, deadlineMs = performance.now() + this.timeoutMs): Promise<Columns> {
    const columns = await this.#columnsWithin(deadlineMs);
    if (!columns.owner) {
      throw new BackendError('schema_outdated', `${operation} needs the owner and created_at columns in ${this.table}: run backend.ensureSchema() or \`sessionkit migrate\``);
    }
    return columns;
  }

  /** Which of the added columns the table has; asked once (within the caller's deadline), again after ensureSchema() or a failed check. */
  #columnsWithin(deadlineMs: number): Promise<Columns> {
    this.#columns ??= this.#query<{ owner: boolean; tokens: boolean }>(this.#statements.columns, [this.table], 'schema check', deadlineMs - performance.now()).then(([row]) => ({
      owner: row?.owner === true,
      writeTokens: row?.tokens === true,
    }));
    return this.#columns.catch((error: unknown) => {
      this.#columns = undefined;
      throw error;
    });
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new BackendError('closed', `PostgresBackend is closed (${operation})`);
  }
}

/**
 * pg throws an `'error'` event nobody listens to from the socket's callback,
 * which ends the process: a Pool whose idle connection the server terminates,
 * a Client that loses its server. A pg Pool or Client given without a
 * listener gets one here that reports the error as an event; one that has a
 * listener is left as it is.
 */
function guardConnectionErrors(db: PostgresDatabase, report: (error: unknown) => void): void {
  const pg = db as unknown as { on(event: 'error', listener: (error: unknown) => void): void; listenerCount(event: 'error'): number };
  if (hasShape(pg, { on: 'function', listenerCount: 'function' }) && pg.listenerCount('error') === 0) pg.on('error', report);
}

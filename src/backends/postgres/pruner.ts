import { emitEvent, type SessionEventListener } from '../../core/events.js';
import { toBackendError, withTimeout } from './failures.js';
import type { Connection, HeldConnection, Queryable } from './queryable.js';
import type { Statements } from './statements.js';

export interface PurgeBatchesOptions {
  /** Most rows one statement deletes. */
  batchSize: number;
  /** Wall time one statement should take: batches grow towards `batchSize` while statements are quicker, and shrink when slower. */
  statementTargetMs: number;
  timeoutMs: number;
  /** Hears the running total after each batch. */
  onBatch?: ((deletedSoFar: number) => void) | undefined;
  /** Rest between batches for as long as the last one took, so a background purge takes at most half the time of the connection it shares with requests. */
  yieldBetweenBatches?: boolean;
  /** The table as the user named it, for the hint when it is missing. */
  table?: string | undefined;
}

/** The first batch is small: how long a statement takes on this table is not known yet. */
export const FIRST_PURGE_BATCH_ROWS = 100;
/** Batches never shrink below this (or `batchSize` when smaller), so a slow server still sees progress. */
export const SMALLEST_PURGE_BATCH_ROWS = 10;
/** Default of `statementTargetMs`: well under the 100 ms a request could wait on a purge's locks. */
export const PURGE_STATEMENT_TARGET_MS = 25;

/**
 * The next batch size after a statement that took `tookMs`: doubled (up to
 * `batchSize`) when under half the target, cut in proportion when over it.
 */
function nextBatchRows(rows: number, tookMs: number, options: PurgeBatchesOptions): number {
  if (tookMs > options.statementTargetMs) {
    const shrunk = Math.max(SMALLEST_PURGE_BATCH_ROWS, Math.floor((rows * options.statementTargetMs) / tookMs));
    return Math.min(options.batchSize, shrunk);
  }
  if (tookMs < options.statementTargetMs / 2) return Math.min(options.batchSize, rows * 2);
  return rows;
}

/**
 * Deletes expired rows oldest first, in batches sized so that each statement
 * takes about `statementTargetMs` (never more than `batchSize` rows); resolves
 * to the number deleted.
 */
export async function purgeInBatches(db: Connection, statements: Statements, options: PurgeBatchesOptions): Promise<number> {
  const { timeoutMs, onBatch, yieldBetweenBatches = false } = options;
  let total = 0;
  let from = '-infinity';
  let rows = Math.min(options.batchSize, FIRST_PURGE_BATCH_ROWS);
  for (;;) {
    const started = performance.now();
    const [row] = await withTimeout(db.query<{ count: number; last: string | null }>(statements.purgeBatch, [rows, from]), timeoutMs, 'purge').catch(
      (error: unknown) => {
        throw toBackendError(error, 'purge', { table: options.table });
      },
    );
    const tookMs = performance.now() - started;
    const deleted = row?.count ?? 0;
    total += deleted;
    onBatch?.(total);
    if (deleted < rows || row?.last == null) return total;
    from = row.last;
    rows = nextBatchRows(rows, tookMs, options);
    if (yieldBetweenBatches) await new Promise((resolve) => setTimeout(resolve, tookMs));
  }
}

export interface PrunerOptions {
  intervalSeconds: number;
  batchSize: number;
  timeoutMs: number;
  table: string;
  store: string;
  onEvent: SessionEventListener | undefined;
}

/**
 * Periodic pruning with one pruner per table across a fleet: an instance
 * prunes only while it holds a session-level advisory lock on a connection it
 * keeps; the others try again each (jittered) interval and take over when the
 * holder's connection goes away.
 */
export class Pruner {
  readonly #db: Queryable;
  readonly #statements: Statements;
  readonly #options: PrunerOptions;
  #timer: NodeJS.Timeout | undefined;
  #leader: HeldConnection | undefined;
  #tick: Promise<void> | undefined;
  #stopped = false;

  constructor(db: Queryable, statements: Statements, options: PrunerOptions) {
    this.#db = db;
    this.#statements = statements;
    this.#options = options;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    await this.#resign(false);
  }

  #schedule(): void {
    if (this.#stopped) return;
    // ±20 % jitter keeps a fleet started at once from hitting the database together.
    const delayMs = this.#options.intervalSeconds * 1000 * (0.8 + 0.4 * Math.random());
    this.#timer = setTimeout(() => {
      this.#tick = this.#prune().finally(() => this.#schedule());
    }, delayMs).unref();
  }

  async #prune(): Promise<void> {
    const { batchSize, timeoutMs, table, store, onEvent } = this.#options;
    try {
      const leader = this.#leader ?? (await this.#tryToLead());
      if (leader === undefined || this.#stopped) return;
      const started = performance.now();
      const deletedCount = await purgeInBatches(leader, this.#statements, { batchSize, statementTargetMs: PURGE_STATEMENT_TARGET_MS, timeoutMs, yieldBetweenBatches: true, table });
      emitEvent(onEvent, { type: 'pruned', store, deletedCount, durationMs: performance.now() - started });
    } catch (error) {
      emitEvent(onEvent, { type: 'error', store, during: 'prune', error: toBackendError(error, 'prune', { table }) });
      await this.#resign(true);
    }
  }

  async #tryToLead(): Promise<HeldConnection | undefined> {
    let held: HeldConnection | undefined;
    const connection = await holdWithin(this.#db, this.#options.timeoutMs, (error) => this.#lost(held, error));
    held = connection;
    try {
      const [row] = await withTimeout(connection.query<{ locked: boolean }>(this.#statements.tryLock, []), this.#options.timeoutMs, 'prune lock');
      if (row?.locked === true) {
        this.#leader = connection;
        return connection;
      }
      await connection.release(false);
      return undefined;
    } catch (error) {
      await connection.release(true);
      throw error;
    }
  }

  /**
   * The server dropped the held connection (and with it the lock): report it,
   * give the connection back broken, and try to lead again at the next tick,
   * as every other instance does.
   */
  #lost(connection: HeldConnection | undefined, error: unknown): void {
    const { store, onEvent } = this.#options;
    emitEvent(onEvent, { type: 'error', store, during: 'prune-connection', error: toBackendError(error, 'prune') });
    if (connection === undefined) return;
    if (this.#leader === connection) this.#leader = undefined;
    void connection.release(true).catch(() => undefined);
  }

  async #resign(broken: boolean): Promise<void> {
    const leader = this.#leader;
    if (leader === undefined) return;
    this.#leader = undefined;
    // A single shared connection (pg Client, PGlite) keeps living: unlock it so the lock does not stack.
    await withTimeout(leader.query(this.#statements.unlock, []), this.#options.timeoutMs, 'prune unlock').catch(() => undefined);
    await leader.release(broken).catch(() => undefined);
  }
}

/** Holds a connection, giving up after `timeoutMs`; a connection that arrives late is given back. */
async function holdWithin(db: Queryable, timeoutMs: number, onLost: (error: unknown) => void): Promise<HeldConnection> {
  const holding = db.hold(onLost);
  try {
    return await withTimeout(holding, timeoutMs, 'prune connect');
  } catch (error) {
    void holding.then((late) => late.release(false)).catch(() => undefined);
    throw error;
  }
}

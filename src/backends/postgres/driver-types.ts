/**
 * The drivers as the backend sees them: the few members it uses, written
 * here rather than imported from `pg`, `postgres` or `@electric-sql/pglite`,
 * so that the published types need none of those packages (an app installs
 * only the driver it uses, and compiles with `skipLibCheck: false`). Each
 * driver's own objects are assignable to these (checked by the tests that
 * pass them to `PostgresBackend`), and a value that is none of them, such as
 * a connection string, is a compile error.
 */

/** The statement form every pg `query` takes. */
export interface PgQueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
}

/** What a pg `query` resolves to, as far as the backend reads it. */
export interface PgQueryResult {
  rows: unknown[];
}

/** A pg `Client`, or a client checked out of a pg `Pool`. */
export interface PgClientLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  connect(): Promise<unknown>;
}

/** A client checked out of a pg `Pool` (`pool.connect()`). */
export interface PgPoolClientLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  /** `true` or an error: the pool discards the client instead of reusing it. */
  release(destroy?: Error | boolean): void;
}

/** A pg `Pool`. */
export interface PgPoolLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  connect(): Promise<PgPoolClientLike>;
  readonly totalCount: number;
}

/** A postgres.js query in flight: a promise of its rows that can be cancelled. */
export interface PostgresJsPendingQuery extends Promise<unknown> {
  cancel(): void;
}

/** A postgres.js `sql` (the function `postgres(url)` returns). */
export interface PostgresJsSql {
  unsafe(query: string, parameters?: never[], options?: { prepare?: boolean }): PostgresJsPendingQuery;
  reserve(): Promise<PostgresJsReservedSql>;
  /** A transaction: BEGIN, what `run` returns (an array of queries is pipelined), then COMMIT, or ROLLBACK when one fails. */
  begin(run: (sql: PostgresJsTransactionSql) => readonly PostgresJsPendingQuery[]): Promise<unknown>;
}

/** The `sql` of a postgres.js transaction. */
export interface PostgresJsTransactionSql {
  unsafe(query: string, parameters?: never[], options?: { prepare?: boolean }): PostgresJsPendingQuery;
}

/** A connection reserved with postgres.js's `sql.reserve()`. */
export interface PostgresJsReservedSql extends PostgresJsSql {
  release(): void;
}

/** A PGlite instance (`new PGlite()`), or anything with its interface. */
export interface PGliteLike {
  query<Row>(query: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  exec(query: string): Promise<unknown>;
  readonly waitReady: Promise<void>;
}

/** The pool configuration `connect()` gives pg (a part of pg's `PoolConfig`). */
export interface PgPoolConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  options?: string;
  ssl?: { rejectUnauthorized: boolean };
  max?: number;
  connectionTimeoutMillis?: number;
  query_timeout?: number;
  keepAlive?: boolean;
}

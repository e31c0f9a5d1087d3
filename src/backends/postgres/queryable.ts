import type { PgClientLike as Client, PGliteLike as PGliteInterface, PgPoolClientLike as PoolClient, PgPoolLike as Pool, PostgresJsSql as Sql } from './driver-types.js';
import { BackendError } from '../../core/errors.js';
import { withTimeout } from './failures.js';

/**
 * A database handle the caller already has: a `pg` Pool or Client, a
 * postgres.js `sql`, or a PGlite instance. The backend never ends it.
 */
export type PostgresDatabase = Pool | Client | Sql | PGliteInterface;

/** One SQL statement; `name` lets drivers that can prepare it do so once per connection. */
export interface Statement {
  name: string;
  text: string;
  /** A write whose last parameter is its `lock_timeout` in milliseconds (see statements.ts). */
  boundsLockWaits?: true;
}

/** How long a statement may take, and what to call it in the timeout's message. */
export interface Deadline {
  timeoutMs: number;
  operation: string;
}

/** A connection held apart from the pool (for a session-level advisory lock). */
export interface HeldConnection extends Queryable {
  /** Gives the connection back; `broken` asks the pool to discard it. */
  release(broken: boolean): Promise<void>;
}

/** The little the backend needs of any driver: run a statement, and hold a connection. */
export interface Queryable {
  /**
   * Runs a statement. With a `deadline`, rejects with a `timeout` BackendError
   * once it has passed, and a statement still waiting for a connection then
   * (in the driver's queue) is never sent.
   */
  query<Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]>;
  /**
   * Holds one connection apart. `onLost` hears the driver's error when the
   * server drops that connection while it is held (terminated, restarted,
   * `idle_session_timeout`): without a listener, pg would throw it from the
   * socket's event and end the process.
   */
  hold(onLost?: (error: unknown) => void): Promise<HeldConnection>;
}

type PgQueryTarget = Pool | Client | PoolClient;

function isPostgresJs(db: PostgresDatabase): db is Sql {
  return typeof db === 'function' && typeof (db as Sql).unsafe === 'function';
}

function isPGlite(db: PostgresDatabase): db is PGliteInterface {
  return typeof (db as PGliteInterface).exec === 'function' && 'waitReady' in db;
}

function isPgPool(db: PostgresDatabase): db is Pool {
  return typeof (db as Pool).connect === 'function' && 'totalCount' in db;
}

function isPgClient(db: PostgresDatabase): db is Client {
  return typeof (db as Client).query === 'function' && typeof (db as Client).connect === 'function';
}

function pgQuery(target: PgQueryTarget) {
  return async <Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]> => {
    const result = await target.query({ name: statement.name, text: statement.text, values: params as unknown[] });
    return result.rows as Row[];
  };
}

function notSent(deadline: Deadline): BackendError {
  return new BackendError('timeout', `PostgreSQL did not answer ${deadline.operation} within ${deadline.timeoutMs} ms (no connection was free in time; not sent)`);
}

/** Whether a pg client that failed this way should leave the pool rather than serve again. */
function isBrokenConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') || code.startsWith('57P');
}

/**
 * A pg Pool, with the connection taken here rather than by `pool.query()`:
 * pg-pool cannot take back a query from its queue, so a statement whose
 * deadline passed while it waited there would still run when a connection
 * frees up. Here a connection that arrives too late goes back unused.
 */
function pgPoolQuery(pool: Pool): Queryable['query'] {
  const plain = pgQuery(pool);
  return <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]> => {
    if (deadline === undefined) return plain<Row>(statement, params);
    const deadlineMs = performance.now() + deadline.timeoutMs;
    const sent = pool.connect().then((client) => {
      if (performance.now() >= deadlineMs) {
        client.release();
        throw notSent(deadline);
      }
      return new Promise<Row[]>((resolve, reject) => {
        let released = false;
        const releaseOnce = (error?: unknown) => {
          if (released) return false;
          released = true;
          client.removeListener('error', onError);
          client.release(error === undefined ? undefined : isBrokenConnection(error) ? (error as Error) : undefined);
          return true;
        };
        // A checked-out client has no listener of the pool's: without this, a connection the server drops mid-statement would end the process.
        const onError = (error: unknown) => {
          if (releaseOnce(error)) reject(error);
        };
        client.on('error', onError);
        client.query({ name: statement.name, text: statement.text, values: params as unknown[] }).then(
          (result) => {
            if (releaseOnce()) resolve(result.rows as Row[]);
          },
          (error: unknown) => {
            if (releaseOnce(error)) reject(error);
          },
        );
      });
    });
    return withTimeout(sent, deadline.timeoutMs, deadline.operation);
  };
}

/** A single pg Client runs one query at a time; queueing here keeps pg from warning about overlapping calls. A statement whose deadline passed in this queue is not sent. */
function oneAtATime(query: Queryable['query']): Queryable['query'] {
  let tail: Promise<unknown> = Promise.resolve();
  return <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline) => {
    const deadlineMs = deadline === undefined ? Infinity : performance.now() + deadline.timeoutMs;
    const result = tail.then(() => {
      if (deadline !== undefined && performance.now() >= deadlineMs) throw notSent(deadline);
      return query<Row>(statement, params);
    });
    tail = result.catch(() => undefined);
    return deadline === undefined ? result : withTimeout(result, deadline.timeoutMs, deadline.operation);
  };
}

/** The same connection for every purpose (a single pg Client, PGlite): holding it is a no-op. */
function selfHeld(query: Queryable['query']): HeldConnection {
  return { query, hold: async () => selfHeld(query), release: async () => {} };
}

function postgresJsQueryable(sql: Sql, release?: () => void): HeldConnection {
  const query = async <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline): Promise<Row[]> => {
    const pending = sql.unsafe(statement.text, params as never[], { prepare: true });
    if (deadline === undefined) return (await pending) as unknown as Row[];
    // postgres.js drops a query still in its queue on cancel(), and sends a cancel request for one already running.
    return (await withTimeout(pending, deadline.timeoutMs, deadline.operation).catch((error: unknown) => {
      if (error instanceof BackendError) pending.cancel();
      throw error;
    })) as unknown as Row[];
  };
  return {
    query,
    hold: async () => {
      const reserved = await sql.reserve();
      return postgresJsQueryable(reserved, () => reserved.release());
    },
    release: async () => release?.(),
  };
}

/** Wraps any supported driver handle; a handle of another kind is a `TypeError`. */
export function toQueryable(db: PostgresDatabase): Queryable {
  if (db === null || (typeof db !== 'object' && typeof db !== 'function')) {
    throw new TypeError('PostgresBackend needs a pg Pool or Client, a postgres.js sql, or a PGlite instance');
  }
  if (isPostgresJs(db)) return postgresJsQueryable(db);
  if (isPGlite(db)) {
    // PGlite runs one statement at a time in this process and cannot take one back from its queue: a deadline ends the wait only.
    return selfHeld(async <Row>(statement: Statement, params: readonly unknown[], deadline?: Deadline) => {
      const pending = db.query<Row>(statement.text, params as unknown[]).then((result) => result.rows);
      return deadline === undefined ? pending : withTimeout(pending, deadline.timeoutMs, deadline.operation);
    });
  }
  if (isPgPool(db)) {
    return {
      query: pgPoolQuery(db),
      hold: async (onLost) => {
        const client = await db.connect();
        let held = true;
        const listener = (error: unknown) => {
          if (held) onLost?.(error);
        };
        client.on('error', listener);
        return {
          query: pgQuery(client),
          hold: async () => {
            throw new TypeError('already held');
          },
          release: async (broken) => {
            if (!held) return;
            held = false;
            // A client discarded as broken keeps the listener: its socket may still report its end.
            if (!broken) client.removeListener('error', listener);
            client.release(broken);
          },
        };
      },
    };
  }
  if (isPgClient(db)) return selfHeld(oneAtATime(pgQuery(db)));
  throw new TypeError('PostgresBackend needs a pg Pool or Client, a postgres.js sql, or a PGlite instance');
}

import type { Client, Pool, PoolClient } from 'pg';
import type { Sql } from 'postgres';
import type { PGliteInterface } from '@electric-sql/pglite';

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

/** A connection held apart from the pool (for a session-level advisory lock). */
export interface HeldConnection extends Queryable {
  /** Gives the connection back; `broken` asks the pool to discard it. */
  release(broken: boolean): Promise<void>;
}

/** The little the backend needs of any driver: run a statement, and hold a connection. */
export interface Queryable {
  query<Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]>;
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

/** A single pg Client runs one query at a time; queueing here keeps pg from warning about overlapping calls. */
function oneAtATime(query: Queryable['query']): Queryable['query'] {
  let tail: Promise<unknown> = Promise.resolve();
  return <Row>(statement: Statement, params: readonly unknown[]) => {
    const result = tail.then(() => query<Row>(statement, params));
    tail = result.catch(() => undefined);
    return result;
  };
}

/** The same connection for every purpose (a single pg Client, PGlite): holding it is a no-op. */
function selfHeld(query: Queryable['query']): HeldConnection {
  return { query, hold: async () => selfHeld(query), release: async () => {} };
}

function postgresJsQueryable(sql: Sql, release?: () => void): HeldConnection {
  const query = async <Row>(statement: Statement, params: readonly unknown[]): Promise<Row[]> =>
    (await sql.unsafe(statement.text, params as never[], { prepare: true })) as unknown as Row[];
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
    return selfHeld(async <Row>(statement: Statement, params: readonly unknown[]) => (await db.query<Row>(statement.text, params as unknown[])).rows);
  }
  if (isPgPool(db)) {
    return {
      query: pgQuery(db),
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

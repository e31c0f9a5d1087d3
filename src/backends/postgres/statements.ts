import { createHash } from 'node:crypto';
import type { Statement } from './queryable.js';

/** Largest number of operations sent in one statement: small batches keep the planner on the key index. */
export const MAX_BATCH_SIZE = 32;

/**
 * Statements of one kind (get, set, ...) running at once per backend. What
 * arrives while they run leaves together as the next statement, so separate
 * HTTP requests share round trips under load. Two per kind (measured against
 * one and three with `npm run bench -- http`) keeps the five kinds within a
 * pool of ten while batches still grow.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;

// Expiry arithmetic happens in SQL so that only the database's clock decides.
// timestamp(2) rounds to hundredths of a second, which could put "now + 0 s"
// a few milliseconds in the future: an expiry <= 0 is stored as -infinity.
const EXPIRES_AT = (seconds: string) =>
  `CASE WHEN ${seconds} <= 0 THEN '-infinity'::timestamptz ELSE now() + make_interval(secs => ${seconds}) END`;

// A write must never land after its caller was told it timed out. The server
// bounds its wait for row locks: each write sets lock_timeout for its own
// transaction (set_config(..., true)) to a little less than the time its caller
// has left, passed as the statement's last parameter. The subquery is
// uncorrelated, so PostgreSQL runs it once, before the first row is fetched and
// so before any row lock is waited for; lock_timeout is read when a wait starts.
const BOUND_LOCK_WAITS = (param: string) => `(SELECT set_config('lock_timeout', ${param}::text, true)) IS NOT NULL`;

function statement(kind: string, text: string, boundsLockWaits?: true): Statement {
  const digest = createHash('sha1').update(text).digest('hex').slice(0, 16);
  return boundsLockWaits ? { name: `sessionkit_${kind}_${digest}`, text, boundsLockWaits } : { name: `sessionkit_${kind}_${digest}`, text };
}

/** Every statement the backend runs on one table, parameters cast to the columns' types so that the key index is used. */
export interface Statements {
  get: Statement;
  getOne: Statement;
  generate: Statement;
  generateOne: Statement;
  set: Statement;
  setOne: Statement;
  clearOne: Statement;
  compareAndSet: Statement;
  compareAndSetMany: Statement;
  clear: Statement;
  put: Statement;
  putClearingOwner: Statement;
  purgeBatch: Statement;
  tryLock: Statement;
  unlock: Statement;
  hasOwnerColumn: Statement;
  generateOwned: Statement;
  listByOwner: Statement;
  clearByOwner: Statement;
  countLive: Statement;
  livePage: Statement;
  clearAllBatch: Statement;
}

function putText(table: string, replacing: string): string {
  return `INSERT INTO ${table} (session_key, expire_date, session_data)
       SELECT v.key, ${EXPIRES_AT('v.expiry')}, v.value
         FROM unnest($1::char(40)[], $2::int[], $3::text[]) AS v(key, expiry, value) ORDER BY v.key
       ON CONFLICT (session_key) DO UPDATE
          SET expire_date = excluded.expire_date, session_data = excluded.session_data${replacing}`;
}

/** OFFSET that keeps every row: what `maxSessionsPerOwner` unset means. */
export const NO_OWNER_LIMIT = 2_147_483_647;

export function statementsFor(table: string, lockName: string): Statements {
  return {
    // Expired rows come back too (flagged), so that a read can report them; they still answer NotFound.
    get: statement(
      'get',
      `SELECT session_key AS key, session_data AS value, expire_date > now() AS live,
              CASE WHEN expire_date > now() THEN round(extract(epoch FROM expire_date - now()))::int ELSE 0 END AS period
         FROM ${table}
        WHERE session_key = ANY($1::char(40)[])`,
    ),
    // A batch of one (every operation at low concurrency) skips the array: cheaper to bind and to plan.
    getOne: statement(
      'getone',
      `SELECT session_key AS key, session_data AS value, expire_date > now() AS live,
              CASE WHEN expire_date > now() THEN round(extract(epoch FROM expire_date - now()))::int ELSE 0 END AS period
         FROM ${table}
        WHERE session_key = $1::char(40)`,
    ),
    generateOne: statement(
      'generateone',
      `INSERT INTO ${table} (session_key, expire_date, session_data) SELECT $1::char(40), ${EXPIRES_AT('$2::int')}, $3::text WHERE ${BOUND_LOCK_WAITS('$4')}`,
      true,
    ),
    setOne: statement(
      'setone',
      `UPDATE ${table} SET session_data = $2::text, expire_date = ${EXPIRES_AT('$3::int')}
        WHERE session_key = $1::char(40) AND expire_date > now() AND ${BOUND_LOCK_WAITS('$4')}`,
      true,
    ),
    clearOne: statement('clearone', `DELETE FROM ${table} WHERE session_key = $1::char(40) AND ${BOUND_LOCK_WAITS('$2')}`, true),
    generate: statement(
      'generate',
      `INSERT INTO ${table} (session_key, expire_date, session_data)
       SELECT v.key, ${EXPIRES_AT('v.expiry')}, v.value
         FROM unnest($1::char(40)[], $2::int[], $3::text[]) AS v(key, expiry, value)
        WHERE ${BOUND_LOCK_WAITS('$4')}`,
      true,
    ),
    // Multi-row writes lock their rows in key order first (ORDER BY ... FOR UPDATE), so two
    // batches sharing keys queue behind each other instead of deadlocking.
    set: statement(
      'set',
      `WITH v AS (SELECT * FROM unnest($1::char(40)[], $2::text[], $3::int[]) AS v(key, value, expiry)),
       target AS (
         SELECT s.ctid AS row_id, v.value, v.expiry FROM ${table} AS s JOIN v ON s.session_key = v.key
          WHERE s.expire_date > now() AND ${BOUND_LOCK_WAITS('$4')} ORDER BY s.session_key FOR UPDATE OF s)
       UPDATE ${table} AS s
          SET session_data = target.value, expire_date = ${EXPIRES_AT('target.expiry')}
         FROM target
        WHERE s.ctid = target.row_id`,
      true,
    ),
    compareAndSet: statement(
      'cas',
      `WITH updated AS (
         UPDATE ${table}
            SET session_data = $3::text, expire_date = ${EXPIRES_AT('$4::int')}
          WHERE session_key = $1::char(40) AND expire_date > now() AND session_data IS NOT DISTINCT FROM $2::text AND ${BOUND_LOCK_WAITS('$5')}
         RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM updated) AS updated,
              EXISTS (SELECT 1 FROM ${table} WHERE session_key = $1::char(40) AND expire_date > now()) AS live`,
      true,
    ),
    compareAndSetMany: statement(
      'casmany',
      `WITH v AS (SELECT * FROM unnest($1::char(40)[], $2::text[], $3::text[], $4::int[]) AS v(key, expected, value, expiry)),
       target AS (
         SELECT s.ctid AS row_id, v.key, v.expected, v.value, v.expiry FROM ${table} AS s JOIN v ON s.session_key = v.key
          WHERE s.expire_date > now() AND ${BOUND_LOCK_WAITS('$5')} ORDER BY s.session_key FOR UPDATE OF s),
       updated AS (
         UPDATE ${table} AS s
            SET session_data = target.value, expire_date = ${EXPIRES_AT('target.expiry')}
           FROM target
          WHERE s.ctid = target.row_id AND s.session_data IS NOT DISTINCT FROM target.expected
         RETURNING s.session_key)
       SELECT v.key,
              EXISTS (SELECT 1 FROM updated WHERE updated.session_key = v.key) AS updated,
              EXISTS (SELECT 1 FROM target WHERE target.key = v.key) AS live
         FROM v`,
      true,
    ),
    clear: statement(
      'clear',
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM ${table} WHERE session_key = ANY($1::char(40)[]) AND ${BOUND_LOCK_WAITS('$2')} ORDER BY session_key FOR UPDATE))`,
      true,
    ),
    // Create or replace under the caller's keys. ON CONFLICT needs a unique index on session_key
    // (ensureSchema's primary key); the caller sends each key once, since one statement may
    // update a row only once. Rows go in key order, so two batches sharing keys queue, never deadlock.
    put: statement('put', putText(table, '')),
    // The same where the owner column exists: a replaced session keeps no owner.
    putClearingOwner: statement('putnoowner', putText(table, ', owner = NULL, created_at = now()')),
    // ctid lets this work on ocaml-session's table, which has no primary key;
    // SKIP LOCKED keeps the purge from waiting on rows a request is updating;
    // walking expire_date from where the last batch stopped ($2, text: postgres.js
    // would turn a timestamptz parameter of -infinity into an invalid Date) keeps each
    // batch an index range scan instead of rescanning rows already deleted.
    // The batch commits without waiting for its WAL flush (synchronous_commit
    // off for this transaction only): a commit fsync stalled by the disk held
    // the batch's row locks for 100 ms and more, and a crash can lose nothing
    // but the deletion of rows that are expired anyway.
    purgeBatch: statement(
      'purge',
      `WITH no_flush_wait AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
       doomed AS (
         SELECT ctid, expire_date FROM ${table}
          WHERE expire_date <= now() AND expire_date >= $2::text::timestamptz
          ORDER BY expire_date LIMIT $1::int FOR UPDATE SKIP LOCKED),
       deleted AS (
         DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM doomed)) RETURNING 1)
       SELECT (SELECT count(*) FROM deleted)::int AS count, (SELECT max(expire_date) FROM doomed)::text AS last,
              (SELECT setting FROM no_flush_wait) AS synchronous_commit`,
    ),
    hasOwnerColumn: statement(
      'hasowner',
      `SELECT count(*) = 2 AS present FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attname IN ('owner', 'created_at') AND NOT attisdropped`,
    ),
    // The trim cannot see the row this statement inserts, so it keeps one fewer ($5 = limit - 1).
    generateOwned: statement(
      'genowned',
      `WITH inserted AS (
         INSERT INTO ${table} (session_key, expire_date, session_data, owner, created_at)
         SELECT $1::char(40), ${EXPIRES_AT('$2::int')}, $3::text, $4::text, now() WHERE ${BOUND_LOCK_WAITS('$6')}
         RETURNING 1),
       trimmed AS (
         DELETE FROM ${table} WHERE ctid IN (
           SELECT ctid FROM ${table} WHERE owner = $4::text AND expire_date > now() AND ${BOUND_LOCK_WAITS('$6')}
            ORDER BY created_at DESC OFFSET $5::int)
         RETURNING 1)
       SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM trimmed)::int AS trimmed`,
      true,
    ),
    listByOwner: statement(
      'listowner',
      `SELECT session_key AS key, created_at AS "createdAt",
              greatest(0, round(extract(epoch FROM expire_date - now())))::int AS period
         FROM ${table} WHERE owner = $1::text AND expire_date > now() ORDER BY created_at, session_key`,
    ),
    clearByOwner: statement(
      'clearowner',
      `WITH deleted AS (
         DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM ${table} WHERE owner = $1::text AND session_key IS DISTINCT FROM $2::char(40) AND ${BOUND_LOCK_WAITS('$3')}
            ORDER BY session_key FOR UPDATE))
         RETURNING expire_date > now() AS live)
       SELECT count(*) FILTER (WHERE live)::int AS count FROM deleted`,
      true,
    ),
    countLive: statement('countlive', `SELECT count(*)::int AS count FROM ${table} WHERE expire_date > now()`),
    // Keyset pagination on session_key (the primary key's index): each page starts after the last key of the one before.
    livePage: statement(
      'livepage',
      `SELECT session_key AS key, session_data AS value, greatest(0, round(extract(epoch FROM expire_date - now())))::int AS period
         FROM ${table} WHERE session_key > $1::char(40) AND expire_date > now() ORDER BY session_key LIMIT $2::int`,
    ),
    // ctid, as purgeBatch: ocaml-session's table has no primary key. Rows are locked in key order, so a
    // batch queues behind a request writing one of them rather than deadlocking with it.
    clearAllBatch: statement(
      'clearall',
      `WITH deleted AS (
         DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} ORDER BY session_key LIMIT $1::int FOR UPDATE))
         RETURNING expire_date > now() AS live)
       SELECT count(*)::int AS count, count(*) FILTER (WHERE live)::int AS live FROM deleted`,
    ),
    tryLock: statement('trylock', `SELECT pg_try_advisory_lock(hashtext('${lockName}')) AS locked`),
    unlock: statement('unlock', `SELECT pg_advisory_unlock(hashtext('${lockName}')) AS unlocked`),
  };
}

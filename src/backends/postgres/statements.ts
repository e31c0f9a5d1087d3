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

/** Write tokens a row keeps, newest first: enough to find a settled write's token after a few later writes of the same key. */
export const KEPT_WRITE_TOKENS = 8;

/** A statement named by a digest of its text: PostgreSQL cuts names at 63 bytes, so long table names could collide. */
export function statement(kind: string, text: string): Statement {
  const digest = createHash('sha1').update(text).digest('hex').slice(0, 16);
  return { name: `sessionkit_${kind}_${digest}`, text };
}

/**
 * How a write stores its token: the SQL for an INSERT's extra column and value, and for an UPDATE's extra
 * assignment, or nothing on a table without the `write_tokens` column (ocaml-session's exact DDL).
 */
interface TokenSql {
  column: string;
  value: (param: string) => string;
  assign: (param: string, row?: string) => string;
}

const WITH_TOKENS: TokenSql = {
  column: ', write_tokens',
  value: (param) => `, ARRAY[${param}::text]`,
  assign: (param, row) => `, write_tokens = (ARRAY[${param}::text] || ${row === undefined ? '' : `${row}.`}write_tokens)[1:${KEPT_WRITE_TOKENS}]`,
};
const WITHOUT_TOKENS: TokenSql = { column: '', value: () => '', assign: () => '' };

/** Every statement the backend runs on one table, parameters cast to the columns' types so that the key index is used. */
export interface Statements {
  getOne: Statement;
  getMany: Statement;
  purgeBatch: Statement;
  /** Takes the transaction-scoped lock of one owner (`$1` the table, `$2` the owner). */
  lockOwner: Statement;
  tryLock: Statement;
  unlock: Statement;
  columns: Statement;
  listByOwnerPage: Statement;
  clearByOwnerBatch: Statement;
  countLive: Statement;
  livePage: Statement;
  clearAllBatch: Statement;
  clearOne: Statement;
  clearMany: Statement;
  /** Writes that store a write token, for a table with the `write_tokens` column. */
  tokened: WriteStatements;
  /** The same writes on a table without it (ocaml-session's exact DDL, or not migrated yet). */
  tokenless: WriteStatements;
}

/** The writes that carry a write token (its parameter is the last one; the tokenless form ignores it). */
export interface WriteStatements {
  generateOne: Statement;
  generateMany: Statement;
  setOne: Statement;
  setMany: Statement;
  compareAndSetOne: Statement;
  compareAndSetMany: Statement;
  putMany: Statement;
  putManyClearingOwner: Statement;
  generateOwned: Statement;
  /** Reads back, for the keys `$1`, whether each row holds the token `$2`, and whether its token list is full. */
  readTokens: Statement;
}

/** OFFSET that keeps every row: what `maxSessionsPerOwner: false` means. */
export const NO_OWNER_LIMIT = 2_147_483_647;

/** Rows per statement of the owner fan-out (`listByOwner`, `clearByOwner`): each step stays far under a request's deadline. */
export const OWNER_STEP_ROWS = 1000;

function writeStatements(table: string, tokens: TokenSql): WriteStatements {
  const kind = (name: string) => (tokens === WITH_TOKENS ? `${name}t` : name);
  // A tokenless statement still takes the token parameter (unused), so both forms are called alike.
  const unused = (param: string) => (tokens === WITH_TOKENS ? '' : ` AND ${param}::text IS NOT NULL`);
  const insertMany = `INSERT INTO ${table} (session_key, expire_date, session_data${tokens.column})
       SELECT v.key, ${EXPIRES_AT('v.expiry')}, v.value${tokens.value('$4')}
         FROM unnest($1::char(40)[], $2::int[], $3::text[]) AS v(key, expiry, value) WHERE true${unused('$4')}`;
  const putText = (replacing: string) => `${insertMany} ORDER BY v.key
       ON CONFLICT (session_key) DO UPDATE
          SET expire_date = excluded.expire_date, session_data = excluded.session_data${tokens.assign('$4', table)}${replacing}`;
  return {
    generateOne: statement(
      kind('generateone'),
      `INSERT INTO ${table} (session_key, expire_date, session_data${tokens.column})
       SELECT $1::char(40), ${EXPIRES_AT('$2::int')}, $3::text${tokens.value('$4')} WHERE true${unused('$4')}`,
    ),
    generateMany: statement(kind('generatemany'), insertMany),
    setOne: statement(
      kind('setone'),
      `UPDATE ${table} SET session_data = $3::text, expire_date = ${EXPIRES_AT('$2::int')}${tokens.assign('$4')}
        WHERE session_key = $1::char(40) AND expire_date > now()${unused('$4')}`,
    ),
    // Multi-row writes lock their rows in key order first (ORDER BY ... FOR UPDATE), so two
    // batches sharing keys queue behind each other instead of deadlocking.
    setMany: statement(
      kind('setmany'),
      `WITH v AS (SELECT * FROM unnest($1::char(40)[], $2::int[], $3::text[]) AS v(key, expiry, value)),
       target AS (
         SELECT s.ctid AS row_id, v.value, v.expiry FROM ${table} AS s JOIN v ON s.session_key = v.key
          WHERE s.expire_date > now()${unused('$4')} ORDER BY s.session_key FOR UPDATE OF s)
       UPDATE ${table} AS s
          SET session_data = target.value, expire_date = ${EXPIRES_AT('target.expiry')}${tokens.assign('$4', 's')}
         FROM target
        WHERE s.ctid = target.row_id`,
    ),
    compareAndSetOne: statement(
      kind('casone'),
      `WITH updated AS (
         UPDATE ${table}
            SET session_data = $3::text, expire_date = ${EXPIRES_AT('$4::int')}${tokens.assign('$5')}
          WHERE session_key = $1::char(40) AND expire_date > now() AND session_data IS NOT DISTINCT FROM $2::text${unused('$5')}
         RETURNING 1)
       SELECT $1::char(40) AS key, EXISTS (SELECT 1 FROM updated) AS updated,
              EXISTS (SELECT 1 FROM ${table} WHERE session_key = $1::char(40) AND expire_date > now()) AS live`,
    ),
    compareAndSetMany: statement(
      kind('casmany'),
      `WITH v AS (SELECT * FROM unnest($1::char(40)[], $2::text[], $3::text[], $4::int[]) AS v(key, expected, value, expiry)),
       target AS (
         SELECT s.ctid AS row_id, v.key, v.expected, v.value, v.expiry FROM ${table} AS s JOIN v ON s.session_key = v.key
          WHERE s.expire_date > now()${unused('$5')} ORDER BY s.session_key FOR UPDATE OF s),
       updated AS (
         UPDATE ${table} AS s
            SET session_data = target.value, expire_date = ${EXPIRES_AT('target.expiry')}${tokens.assign('$5', 's')}
           FROM target
          WHERE s.ctid = target.row_id AND s.session_data IS NOT DISTINCT FROM target.expected
         RETURNING s.session_key)
       SELECT v.key,
              EXISTS (SELECT 1 FROM updated WHERE updated.session_key = v.key) AS updated,
              EXISTS (SELECT 1 FROM target WHERE target.key = v.key) AS live
         FROM v`,
    ),
    // Create or replace under the caller's keys. ON CONFLICT needs a unique index on session_key
    // (ensureSchema's primary key); the caller sends each key once, since one statement may
    // update a row only once. Rows go in key order, so two batches sharing keys queue, never deadlock.
    putMany: statement(kind('putmany'), putText('')),
    // The same where the owner column exists: a replaced session keeps no owner.
    putManyClearingOwner: statement(kind('putmanynoowner'), putText(', owner = NULL, created_at = now()')),
    // Runs after the owner's lock (lockOwner, same transaction), so it sees every login of the owner before it.
    // It cannot see the row it inserts, so it keeps one fewer ($5 = limit - 1). $7 true refuses instead: the row
    // goes in only while fewer than the limit are live (counting at most $5 + 1 rows), and nothing is trimmed.
    // Without a limit ($5 = NO_OWNER_LIMIT) the gates skip both scans, which would read every session of the owner.
    generateOwned: statement(
      kind('genowned'),
      `WITH inserted AS (
         INSERT INTO ${table} (session_key, expire_date, session_data, owner, created_at${tokens.column})
         SELECT $1::char(40), ${EXPIRES_AT('$2::int')}, $3::text, $4::text, now()${tokens.value('$6')}
          WHERE (NOT $7::boolean OR $5::int >= ${NO_OWNER_LIMIT} OR (SELECT count(*) FROM (
                  SELECT 1 FROM ${table} WHERE owner = $4::text AND expire_date > now() LIMIT $5::bigint + 1) AS live) <= $5::int)${unused('$6')}
         RETURNING 1),
       trimmed AS (
         DELETE FROM ${table} WHERE ctid IN (
           SELECT ctid FROM ${table} WHERE owner = $4::text AND expire_date > now() AND $5::int < ${NO_OWNER_LIMIT} AND NOT $7::boolean
            ORDER BY created_at DESC OFFSET $5::int)
         RETURNING 1)
       SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM trimmed)::int AS trimmed`,
    ),
    readTokens: statement(
      kind('readtokens'),
      tokens === WITH_TOKENS
        ? `SELECT session_key AS key, coalesce($2::text = ANY(write_tokens), false) AS mine,
                  coalesce(cardinality(write_tokens), 0) >= ${KEPT_WRITE_TOKENS} AS full
             FROM ${table} WHERE session_key = ANY($1::char(40)[])`
        : `SELECT session_key AS key, false AS mine, true AS full FROM ${table} WHERE session_key = ANY($1::char(40)[]) AND $2::text IS NOT NULL`,
    ),
  };
}

export function statementsFor(table: string, lockName: string): Statements {
  // Expired rows come back too (flagged), so that a read can report them; they still answer NotFound.
  const selectSessions = `SELECT session_key AS key, session_data AS value, expire_date > now() AS live,
              CASE WHEN expire_date > now() THEN round(extract(epoch FROM expire_date - now()))::int ELSE 0 END AS period
         FROM ${table}
        WHERE`;
  return {
    // A batch of one (every operation at low concurrency) skips the array: cheaper to bind and to plan.
    getOne: statement('getone', `${selectSessions} session_key = $1::char(40)`),
    getMany: statement('getmany', `${selectSessions} session_key = ANY($1::char(40)[])`),
    clearOne: statement('clearone', `DELETE FROM ${table} WHERE session_key = $1::char(40)`),
    clearMany: statement(
      'clearmany',
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM ${table} WHERE session_key = ANY($1::char(40)[]) ORDER BY session_key FOR UPDATE))`,
    ),
    tokened: writeStatements(table, WITH_TOKENS),
    tokenless: writeStatements(table, WITHOUT_TOKENS),
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
    columns: statement(
      'columns',
      `SELECT count(*) FILTER (WHERE attname IN ('owner', 'created_at')) = 2 AS owner, count(*) FILTER (WHERE attname = 'write_tokens') = 1 AS tokens
         FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attname IN ('owner', 'created_at', 'write_tokens') AND NOT attisdropped`,
    ),
    // Keyset pagination on (created_at, session_key), the order the owner index serves.
    listByOwnerPage: statement(
      'listownerpage',
      `SELECT session_key AS key, created_at AS "createdAt", created_at::text AS "createdAtText",
              greatest(0, round(extract(epoch FROM expire_date - now())))::int AS period, session_data AS value
         FROM ${table} WHERE owner = $1::text AND expire_date > now() AND (created_at, session_key) > ($2::text::timestamptz, $3::char(40))
        ORDER BY created_at, session_key LIMIT $4::int`,
    ),
    // One step of "log out everywhere": at most $3 rows, locked in key order (a batch queues behind a request writing one of them).
    clearByOwnerBatch: statement(
      'clearownerbatch',
      `WITH deleted AS (
         DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM ${table} WHERE owner = $1::text AND session_key IS DISTINCT FROM $2::char(40)
            ORDER BY session_key LIMIT $3::int FOR UPDATE))
         RETURNING expire_date > now() AS live)
       SELECT count(*)::int AS count, count(*) FILTER (WHERE live)::int AS live FROM deleted`,
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
    // Serialises the logins of one owner of this table until their transaction ends: the two-key form, so that it
    // never meets the pruner's one-key lock. Two owners whose hashes collide only wait for each other.
    lockOwner: statement('lockowner', `SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext($2::text))`),
    tryLock: statement('trylock', `SELECT pg_try_advisory_lock(hashtext('${lockName}')) AS locked`),
    unlock: statement('unlock', `SELECT pg_advisory_unlock(hashtext('${lockName}')) AS unlocked`),
  };
}

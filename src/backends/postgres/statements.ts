import { createHash } from 'node:crypto';
import type { Statement } from './queryable.js';

/** Largest number of operations sent in one statement: small batches keep the planner on the key index. */
export const MAX_BATCH_SIZE = 32;

// Expiry arithmetic happens in SQL so that only the database's clock decides.
// timestamp(2) rounds to hundredths of a second, which could put "now + 0 s"
// a few milliseconds in the future: an expiry <= 0 is stored as -infinity.
const EXPIRES_AT = (seconds: string) =>
  `CASE WHEN ${seconds} <= 0 THEN '-infinity'::timestamptz ELSE now() + make_interval(secs => ${seconds}) END`;

function statement(kind: string, text: string): Statement {
  const digest = createHash('sha1').update(text).digest('hex').slice(0, 16);
  return { name: `sessionkit_${kind}_${digest}`, text };
}

/** Every statement the backend runs on one table, parameters cast to the columns' types so that the key index is used. */
export interface Statements {
  get: Statement;
  generate: Statement;
  set: Statement;
  compareAndSet: Statement;
  clear: Statement;
  purgeBatch: Statement;
  tryLock: Statement;
  unlock: Statement;
}

export function statementsFor(table: string, lockName: string): Statements {
  return {
    get: statement(
      'get',
      `SELECT session_key AS key, session_data AS value,
              greatest(0, round(extract(epoch FROM expire_date - now())))::int AS period
         FROM ${table}
        WHERE session_key = ANY($1::char(40)[]) AND expire_date > now()`,
    ),
    generate: statement(
      'generate',
      `INSERT INTO ${table} (session_key, expire_date, session_data)
       SELECT v.key, ${EXPIRES_AT('v.expiry')}, v.value
         FROM unnest($1::char(40)[], $2::int[], $3::text[]) AS v(key, expiry, value)`,
    ),
    set: statement(
      'set',
      `UPDATE ${table} AS s
          SET session_data = v.value, expire_date = ${EXPIRES_AT('v.expiry')}
         FROM unnest($1::char(40)[], $2::text[], $3::int[]) AS v(key, value, expiry)
        WHERE s.session_key = v.key AND s.expire_date > now()`,
    ),
    compareAndSet: statement(
      'cas',
      `WITH updated AS (
         UPDATE ${table}
            SET session_data = $3::text, expire_date = ${EXPIRES_AT('$4::int')}
          WHERE session_key = $1::char(40) AND expire_date > now() AND session_data IS NOT DISTINCT FROM $2::text
         RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM updated) AS updated,
              EXISTS (SELECT 1 FROM ${table} WHERE session_key = $1::char(40) AND expire_date > now()) AS live`,
    ),
    clear: statement('clear', `DELETE FROM ${table} WHERE session_key = ANY($1::char(40)[])`),
    // ctid lets this work on the seed's table, which has no primary key;
    // SKIP LOCKED keeps the purge from waiting on rows a request is updating.
    purgeBatch: statement(
      'purge',
      `WITH doomed AS (
         SELECT ctid FROM ${table} WHERE expire_date <= now() LIMIT $1::int FOR UPDATE SKIP LOCKED),
       deleted AS (
         DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM doomed)) RETURNING 1)
       SELECT count(*)::int AS count FROM deleted`,
    ),
    tryLock: statement('trylock', `SELECT pg_try_advisory_lock(hashtext('${lockName}')) AS locked`),
    unlock: statement('unlock', `SELECT pg_advisory_unlock(hashtext('${lockName}')) AS unlocked`),
  };
}

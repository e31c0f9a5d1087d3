import type { Queryable, Statement } from './queryable.js';

/**
 * DDL that creates the seed's table (same column names and types) with
 * `session_key` as the primary key and an index on `expire_date` for pruning.
 * One DO block, serialised by a transaction-level advisory lock, so that
 * several processes may run it at once; idempotent.
 */
export function schemaStatement(table: string): Statement {
  const baseName = table.split('.').pop()!.replaceAll('"', '');
  const text = `DO $sessionkit$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('sessionkit:schema:${table}'));
  CREATE TABLE IF NOT EXISTS ${table} (
    session_key char(40) PRIMARY KEY,
    expire_date timestamp(2) with time zone,
    session_data text
  );
  CREATE INDEX IF NOT EXISTS "${baseName}_expire_date_idx" ON ${table} (expire_date);
END
$sessionkit$`;
  return { name: `sessionkit_schema_${baseName}`, text };
}

/** The seed's exact DDL (no primary key, a non-unique index), for tests and for tables shared with ocaml-session. */
export function seedSchemaSql(table: string): string {
  const baseName = table.split('.').pop()!.replaceAll('"', '');
  return `CREATE TABLE IF NOT EXISTS ${table} ( session_key char(40), expire_date timestamp (2) with time zone, session_data text ); CREATE INDEX "${baseName}_key_idx" ON ${table} (session_key);`;
}

export async function ensureSchemaOn(db: Queryable, table: string): Promise<void> {
  await db.query(schemaStatement(table), []);
}

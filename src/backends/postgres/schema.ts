import type { Statement } from './queryable.js';
import { statement } from './statements.js';

/**
 * DDL that creates ocaml-session's table (same column names and types) with
 * `session_key` as the primary key and an index on `expire_date` for pruning,
 * then migrates any existing table additively: the `owner`, `created_at` and
 * `write_tokens` columns (the last few writes' tokens, newest first, read back
 * to settle a write whose answer was lost) and the owner index (only when missing, so an up-to-date table is
 * never locked). One DO block, serialised by a transaction-level advisory
 * lock, so that several processes may run it at once; idempotent.
 */
export function schemaStatement(table: string): Statement {
  const baseName = table.split('.').pop()!.replaceAll('"', '');
  const text = `DO $sessionkit$
BEGIN
  -- "already exists, skipping" is what every run but the first says: not worth a NOTICE (postgres.js prints each one).
  PERFORM set_config('client_min_messages', 'warning', true);
  PERFORM pg_advisory_xact_lock(hashtext('sessionkit:schema:${table}'));
  CREATE TABLE IF NOT EXISTS ${table} (
    session_key char(40) PRIMARY KEY,
    expire_date timestamp(2) with time zone,
    session_data text,
    owner text,
    created_at timestamp with time zone DEFAULT now(),
    write_tokens text[]
  );
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'owner' AND NOT attisdropped) THEN
    ALTER TABLE ${table} ADD COLUMN owner text;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'created_at' AND NOT attisdropped) THEN
    ALTER TABLE ${table} ADD COLUMN created_at timestamp with time zone DEFAULT now();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'write_tokens' AND NOT attisdropped) THEN
    ALTER TABLE ${table} ADD COLUMN write_tokens text[];
  END IF;
  CREATE INDEX IF NOT EXISTS "${baseName}_expire_date_idx" ON ${table} (expire_date);
  CREATE INDEX IF NOT EXISTS "${baseName}_owner_idx" ON ${table} (owner, created_at) WHERE owner IS NOT NULL;
END
$sessionkit$`;
  return statement('schema', text);
}

/** ocaml-session's exact DDL (no primary key, a non-unique index), for tests and for tables shared with ocaml-session. */
export function ocamlSessionSchemaSql(table: string): string {
  const baseName = table.split('.').pop()!.replaceAll('"', '');
  return `CREATE TABLE IF NOT EXISTS ${table} ( session_key char(40), expire_date timestamp (2) with time zone, session_data text ); CREATE INDEX "${baseName}_key_idx" ON ${table} (session_key);`;
}

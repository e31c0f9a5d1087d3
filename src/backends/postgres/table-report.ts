import type { Statement } from './queryable.js';
import { statement } from './statements.js';

/** What the table is, as the catalog says: for operators (`sessionkit migrate`, and a hint when it is not a session table). */
export interface TableDescription {
  /** False when no table has the name (then `columns` and `indexes` are empty). */
  exists: boolean;
  /** Column names in table order. */
  columns: string[];
  /** Index names, sorted. */
  indexes: string[];
  /** True when the table holds no row at all, live or expired (also when it does not exist). */
  empty: boolean;
}

/** Bytes the table takes on disk, as PostgreSQL's size functions report them. */
export interface TableSizes {
  /** The rows, with TOAST and the free-space and visibility maps (`pg_table_size`). */
  tableBytes: number;
  /** Every index of the table (`pg_indexes_size`). */
  indexBytes: number;
  /** Both (`pg_total_relation_size`). */
  totalBytes: number;
}

/** Live sessions per owner; the percentiles are nearest-rank, `null` when no live session has an owner. */
export interface SessionsPerOwner {
  /** Owners with at least one live session. */
  owners: number;
  /** Live sessions that have an owner. */
  sessionsWithOwner: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The owner and creation time of one live session (`null`: made without an owner, or before the columns existed). */
export interface SessionOwnerRow {
  owner: string | null;
  createdAt: Date | null;
}

/** The operator's statements on one table (counts, catalog, sizes); `$1` of the catalog ones is the quoted table name. */
export interface ReportStatements {
  exists: Statement;
  columns: Statement;
  indexes: Statement;
  isEmpty: Statement;
  countExpired: Statement;
  perOwner: Statement;
  sizes: Statement;
  sessionOwner: Statement;
}

export function reportStatementsFor(table: string): ReportStatements {
  return {
    exists: statement('exists', `SELECT to_regclass($1) IS NOT NULL AS present`),
    columns: statement('columns', `SELECT attname::text AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`),
    indexes: statement('indexes', `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = to_regclass($1) ORDER BY 1`),
    isEmpty: statement('isempty', `SELECT NOT EXISTS (SELECT 1 FROM ${table}) AS empty`),
    countExpired: statement('countexpired', `SELECT count(*)::int AS count FROM ${table} WHERE expire_date <= now()`),
    perOwner: statement(
      'perowner',
      `SELECT count(*)::int AS owners, coalesce(sum(n), 0)::int AS "sessionsWithOwner",
              (percentile_disc(0.5) WITHIN GROUP (ORDER BY n))::int AS p50,
              (percentile_disc(0.9) WITHIN GROUP (ORDER BY n))::int AS p90,
              (percentile_disc(0.99) WITHIN GROUP (ORDER BY n))::int AS p99,
              max(n)::int AS max
         FROM (SELECT count(*) AS n FROM ${table} WHERE owner IS NOT NULL AND expire_date > now() GROUP BY owner) AS per_owner`,
    ),
    // float8: a bigint would come back as a string from some drivers.
    sizes: statement(
      'sizes',
      `SELECT pg_table_size(to_regclass($1))::float8 AS "tableBytes", pg_indexes_size(to_regclass($1))::float8 AS "indexBytes",
              pg_total_relation_size(to_regclass($1))::float8 AS "totalBytes"`,
    ),
    sessionOwner: statement('sessionowner', `SELECT owner, created_at AS "createdAt" FROM ${table} WHERE session_key = $1::char(40) AND expire_date > now() LIMIT 1`),
  };
}

/**
 * sessionkit/postgres: sessions in PostgreSQL (a server through pg or
 * postgres.js, or PGlite in-process). The drivers are optional peer
 * dependencies; only `connect()` loads `pg` itself.
 */
export { PostgresBackend, type PostgresBackendOptions, type PurgeOptions } from './postgres-backend.js';
export { connect, parseConninfo, poolConfigFor, type ConnectOptions } from './connect.js';
export type { PostgresDatabase } from './queryable.js';
export { postgresJsOptions, type PostgresJsFaultOptions, type PostgresJsSocketTarget } from './postgres-js-options.js';
export { ocamlSessionSchemaSql } from './schema.js';

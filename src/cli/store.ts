import type { PostgresBackend } from '../backends/postgres/postgres-backend.js';
import type { RedisBackend } from '../backends/redis/redis-backend.js';
import type { SessionsPerOwner } from '../backends/postgres/table-report.js';

/** What `migrate` did. */
export interface MigrateReport {
  store: StoreKind;
  /** `created`: the table is new; `upgraded`: columns or indexes were added; `unchanged`: it was up to date; `none`: the store has no schema. */
  action: 'created' | 'upgraded' | 'unchanged' | 'none';
  /** What was added, e.g. `column owner`; empty unless upgraded. */
  added: string[];
  note?: string;
}

/** What `purge` did. */
export interface PurgeReport {
  store: StoreKind;
  /** Expired sessions deleted. */
  deleted: number;
  /** Expired sessions counted before the purge began (`null` when the store cannot tell). */
  expiredBefore: number | null;
  durationMs: number;
  note?: string;
}

/** Sessions per owner among live sessions, as PostgreSQL counts them, and the live sessions without one. */
export interface OwnerStats extends SessionsPerOwner {
  sessionsWithoutOwner: number;
}

/** What `stats` found. Counts are sessions; sizes are bytes. */
export interface StatsReport {
  store: StoreKind;
  live: number;
  /** Expired sessions still stored (`null` when the store drops them itself). */
  expired: number | null;
  /** `null` where the store cannot count them (no owner column yet, or Redis). */
  owners: OwnerStats | null;
  /** Sizes in bytes, by what the store can measure cheaply. */
  sizeBytes: Record<string, number>;
  notes: string[];
}

/** What `inspect` found for one key. The key itself is never echoed, only its digest. */
export interface InspectReport {
  store: StoreKind;
  keyDigest: string;
  status: 'Set' | 'NotSet' | 'NotFound';
  value?: string;
  periodSeconds?: number;
  /** The owner, `null` for none, absent where the store cannot tell. */
  owner?: string | null;
  /** Redis: the owner's digest (`digestKey(owner)`), which is what Redis keeps of an owner. */
  ownerDigest?: string;
  createdAt?: string | null;
  /** What a typed session's value records of its last request (ISO time, `User-Agent`, address), when it records them. */
  lastSeenAt?: string;
  userAgent?: string;
  clientAddress?: string;
  /** How the value given named the key, when not as the key itself (URL-encoded, or express-session's signed cookie). */
  note?: string;
}

/** What a store knows of a live session beyond `get`: its owner and creation time. */
export interface OwnerInfo {
  /** The owner id, `null` for a session without one; absent when the store keeps only its digest and the value does not name it. */
  owner?: string | null;
  ownerDigest?: string;
  createdAt: string | null;
}

export type StoreKind = 'postgres' | 'redis';

/**
 * One store opened by the command: the library's backend plus the few
 * operator queries (counts, sizes) that are no part of the session contract.
 * Every method rejects with a `BackendError` or a `CliError`.
 */
export interface CliStore {
  readonly kind: StoreKind;
  /** Where the store is, for messages: no password. */
  readonly where: string;
  readonly backend: PostgresBackend | RedisBackend;
  /** The `sessionkit migrate` command line for hints, with the flags that name this table. */
  readonly migrateCommand: string;
  /** True when the table or prefix holds no session at all, live or expired: most likely a wrong --table or --prefix. */
  isEmpty(): Promise<boolean>;
  /** Checks that everything but `migrate` can run (the table exists); throws a `CliError` with exit code 5 otherwise. */
  ready(): Promise<void>;
  migrate(): Promise<MigrateReport>;
  /** Expired sessions stored now (`null`: the store drops them itself). */
  countExpired(): Promise<number | null>;
  /** Deletes expired sessions `batchSizeRows` at a time; `onBatch` hears the running total. */
  purge(batchSizeRows: number, onBatch: (deletedSoFar: number) => void): Promise<number>;
  stats(): Promise<StatsReport>;
  /** Owner and creation time of a live session, where the store keeps them. */
  ownerOf(key: string): Promise<OwnerInfo | undefined>;
  close(): Promise<void>;
}

import type { Pool } from 'pg';
import { literalPattern, masterNodes, scanKeys } from '../../backends/redis/key-scan.js';
import { failFastIoredis, loadDriver, oneLine } from '../drivers.js';
import { parseJsonObject } from '../../core/validate.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** One session read from the source: its id, its express-session JSON (undefined when it does not parse as an object), and seconds left (`Infinity`: it never expires). */
export interface SourceSession {
  readonly sid: string;
  readonly value: string | undefined;
  readonly expirySeconds: number;
}

/** A store of express-session sessions written by connect-pg-simple or connect-redis. */
export interface ImportSource {
  /** Where it is, for messages: no password. */
  readonly where: string;
  /** Live sessions now, for the progress bar's total. */
  countLive(): Promise<number>;
  /** Every live session, in batches of about `batchSize`. */
  batches(batchSize: number): AsyncIterable<SourceSession[]>;
  close(): Promise<void>;
}

/** The JSON text of `text` when it is a JSON object, else undefined (skipped and counted). */
export function sessionJson(text: unknown): string | undefined {
  return typeof text === 'string' && parseJsonObject(text) !== undefined ? text : undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** `name` or `schema.name` as a quoted SQL identifier; a usage error otherwise. */
function quotedTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new CliError(ExitCode.usage, `--from-table must be a table name or schema.name, got ${JSON.stringify(table)}`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** connect-pg-simple's table (`sid`, `sess` json, `expire` timestamp) at `url`. */
export async function openConnectPgSimple(url: string, table: string, timeoutMs: number): Promise<ImportSource> {
  const quoted = quotedTable(table);
  const pg = await loadDriver<typeof import('pg')>('pg');
  const pool: Pool = new (pg.default ?? pg).Pool({ connectionString: url, max: 1, connectionTimeoutMillis: timeoutMs });
  pool.on('error', () => undefined);
  const where = `connect-pg-simple table ${JSON.stringify(table)}`;
  const query = async <Row>(text: string, params: unknown[] = []): Promise<Row[]> => {
    try {
      return (await pool.query(text, params)).rows as Row[];
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '42P01' || code === '42703') {
        throw new CliError(ExitCode.storeError, `cannot read the ${where}: ${oneLine(error)} (is it connect-pg-simple's table? name it with --from-table)`, { cause: error });
      }
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) throw new CliError(ExitCode.storeError, `cannot read the ${where}: ${oneLine(error)}`, { cause: error });
      throw new CliError(ExitCode.unreachable, `cannot reach the source PostgreSQL: ${oneLine(error)}`, { cause: error });
    }
  };
  try {
    await query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return {
    where,
    async countLive() {
      const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted} WHERE expire > now()`);
      return Number(row?.n ?? 0);
    },
    async *batches(batchSize) {
      // Keyset pages in sid order: a session added or removed meanwhile never shifts a page.
      // Seconds left are rounded down: an import never lengthens a session (to the nearest second, a session
      // could gain half a second, which a backend then reports as one more); an expiry of 'infinity' has none
      // (subtracting it is an error that would end the page's statement).
      let after = '';
      for (;;) {
        const rows = await query<{ sid: string; sess: string | null; seconds: string | null }>(
          `SELECT sid, sess::text AS sess, CASE WHEN isfinite(expire) THEN floor(extract(epoch FROM expire - now()))::bigint END AS seconds
             FROM ${quoted} WHERE expire > now() AND sid > $1 ORDER BY sid LIMIT $2`,
          [after, batchSize],
        );
        if (rows.length === 0) return;
        yield rows.map((row) => ({ sid: row.sid, value: sessionJson(row.sess), expirySeconds: row.seconds === null ? Infinity : Number(row.seconds) }));
        after = rows[rows.length - 1]!.sid;
        if (rows.length < batchSize) return;
      }
    },
    close: () => pool.end(),
  };
}

/** connect-redis's keys (`prefix` + sid, a JSON string with a TTL) at `url`. */
export async function openConnectRedis(url: string, prefix: string, timeoutMs: number, defaultExpirySeconds: number): Promise<ImportSource> {
  if (prefix === '' || /[*?[\]\\]/.test(prefix)) throw new CliError(ExitCode.usage, `--from-prefix must be non-empty and hold no glob characters, got ${JSON.stringify(prefix)}`);
  const { client, connect } = failFastIoredis(await loadDriver<typeof import('ioredis')>('ioredis'), url, timeoutMs);
  try {
    await connect();
  } catch (error) {
    throw new CliError(ExitCode.unreachable, `cannot reach the source Redis: ${oneLine(error)}`, { cause: error });
  }
  const where = `connect-redis keys ${JSON.stringify(`${prefix}*`)}`;
  const unreadable = (error: unknown) => new CliError(ExitCode.storeError, `cannot read the ${where}: ${oneLine(error)}`, { cause: error });
  // The backend's own SCAN walk (one node: connect-redis runs on a single server), cut into batches of batchSize.
  const [node] = await masterNodes(client);
  async function* scan(count: number): AsyncIterable<string[]> {
    try {
      for await (const page of scanKeys(node!, `${literalPattern(prefix)}*`, timeoutMs)) {
        for (let start = 0; start < page.length; start += count) yield page.slice(start, start + count);
      }
    } catch (error) {
      throw unreadable(error);
    }
  }
  return {
    where,
    async countLive() {
      // For the progress bar's total only (SCAN may return a key twice; the bar's total grows to match what is done).
      let count = 0;
      for await (const keys of scan(1000)) count += keys.length;
      return count;
    },
    async *batches(batchSize) {
      for await (const keys of scan(batchSize)) {
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.get(key).pttl(key);
        const replies = (await pipeline.exec().catch((error: unknown) => Promise.reject(unreadable(error)))) ?? [];
        const sessions: SourceSession[] = [];
        keys.forEach((key, index) => {
          const [getError, text] = replies[index * 2] ?? [];
          const [, pttl] = replies[index * 2 + 1] ?? [];
          const ttlMs = Number(pttl);
          // -2: gone since the scan; anything else but a live TTL or none (-1) is not a session.
          if (ttlMs === -2 || (ttlMs >= 0 && ttlMs < 1000)) return;
          const value = getError ? undefined : sessionJson(text);
          sessions.push({ sid: key.slice(prefix.length), value, expirySeconds: ttlMs === -1 ? expiresOf(value) ?? defaultExpirySeconds : Math.floor(ttlMs / 1000) });
        });
        yield sessions;
      }
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Seconds until the session's `cookie.expires`, when it has one. */
function expiresOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const expires = (JSON.parse(value) as { cookie?: { expires?: unknown } }).cookie?.expires;
  if (typeof expires !== 'string') return undefined;
  const at = Date.parse(expires);
  return Number.isFinite(at) ? Math.floor((at - Date.now()) / 1000) : undefined;
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import type { BackendError } from '../../../src/index.js';
import { settleTimed } from '../../support/elapsed.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason, testPool } from '../../support/postgres.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const prefix = `sk_connerr_${process.pid}_`;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const child = fileURLToPath(new URL('./support/unguarded-connection.ts', import.meta.url));

/**
 * Connections never take the process down: a pg Pool or Client handed over
 * without an `'error'` listener gets one from the backend, so the server
 * terminating an idle connection is an event, not an exit.
 */
describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL connection errors', () => {
  const admin = testPool(2);
  afterAll(async () => {
    await dropTablesLike(admin, prefix);
    await admin.end();
  });

  for (const kind of ['pool', 'client'] as const) {
    it(`a pg ${kind} without an 'error' listener whose idle connection the server terminates: the process stays up`, async () => {
      const applicationName = `${prefix}${kind}`;
      const process_ = spawn(process.execPath, ['--import', tsxLoader, child, DATABASE_URL, `${prefix}${kind}`, applicationName, kind], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const ready = new Promise<void>((resolve) =>
        process_.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('ready')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => process_.on('exit', (code) => resolve(code)));
      await Promise.race([ready, exited]);
      const { rows } = await admin.query<{ count: number }>(
        'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS count FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      expect(rows[0]!.count).toBeGreaterThan(0);
      // Let the termination reach the process before it goes on.
      await new Promise((resolve) => setTimeout(resolve, 500));
      process_.stdin.write('go\n');
      const code = await exited;
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stdout).toContain(kind === 'pool' ? 'alive: before' : 'alive: rejected unavailable');
    }, 60_000);
  }
});

describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL black-holed connections', () => {
  const admin = testPool(2);
  const server = new URL(DATABASE_URL);
  const proxy = new TcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  afterAll(async () => {
    await proxy.down();
    await dropTablesLike(admin, prefix);
    await admin.end();
  });

  it('pg: after a black hole (no FIN) heals, service is back within 2 x timeoutMs, and nothing answered failed was stored', async () => {
    await proxy.up();
    const timeoutMs = 1000;
    // The application's own pool, as the README sets it up: no query or connection timeouts of its own.
    const pool = new pg.Pool({ host: '127.0.0.1', port: proxy.port, database: server.pathname.slice(1), user: decodeURIComponent(server.username), max: 4 });
    pool.on('error', () => undefined);
    const backend = new PostgresBackend(pool, { table: `${prefix}blackhole`, timeoutMs, pruneIntervalSeconds: false });
    try {
      await backend.ensureSchema();
      const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => backend.generate({ value: `before ${i}` })));
      // Four pooled connections, idle: they all go silent with the network, and no FIN will ever tell.
      const warm = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
      for (const client of warm) client.release();
      proxy.blackhole();
      const during = await Promise.all(keys.map((key, i) => settleTimed<unknown>(i % 2 ? backend.get(key) : backend.set(key, 'during'))));
      for (const outcome of during) {
        expect(outcome.error).toMatchObject({ name: 'BackendError' });
        expect(outcome.ms).toBeLessThan(timeoutMs + 500 + outcome.lagMs);
      }
      proxy.heal();
      const healedMs = performance.now();
      let answer = await settleTimed(backend.get(keys[1]!));
      while (answer.error !== undefined && performance.now() - healedMs < 5 * timeoutMs) answer = await settleTimed(backend.get(keys[1]!));
      const lag = answer.lagMs;
      expect(answer.value).toMatchObject({ ok: true });
      expect(performance.now() - healedMs).toBeLessThan(2 * timeoutMs + lag + 250);
      // A set that was answered with an error was not stored (its statement never reached the server).
      for (const [i, outcome] of during.entries()) {
        if (i % 2 === 0 && (outcome.error as BackendError).code !== 'indeterminate') expect(await backend.get(keys[i]!)).toMatchObject({ ok: true, value: `before ${i}` });
      }
    } finally {
      await backend.close();
      void pool.end();
    }
  }, 60_000);
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { isBackendError } from '../../src/index.js';
import { watchEventLoopLag } from '../support/elapsed.js';
import { postgresBinDir, ScratchPostgres } from '../support/postgres-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const binaries = postgresBinDir();
if (binaries === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries are required when CI=true');

/**
 * A PostgreSQL server restarted under a steady load (a server of the test's
 * own, so the machine's is untouched): every operation succeeds or rejects with
 * a BackendError, none outlives timeoutMs, service resumes by itself, and no
 * write that was acknowledged is lost.
 */
describe.skipIf(binaries === undefined)('PostgreSQL restarted under load', () => {
  let server: ScratchPostgres;
  let pool: pg.Pool;
  let backend: PostgresBackend;
  const timeoutMs = 1000;

  beforeAll(async () => {
    server = await ScratchPostgres.start();
    pool = new pg.Pool({ connectionString: server.url, max: 8 });
    pool.on('error', () => undefined);
    backend = new PostgresBackend(pool, { timeoutMs });
    await backend.ensureSchema();
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await pool?.end();
    await server?.stop();
  });

  it.each(['fast', 'immediate'] as const)('restart (%s): no hang, typed errors only, acknowledged writes kept', async (mode) => {
    const acknowledged = new Map<string, string>();
    const outcomes = { ok: 0, backendError: 0, other: [] as unknown[], slowestMs: 0 };
    let running = true;
    const worker = async (id: number) => {
      for (let n = 0; running; n++) {
        const started = performance.now();
        try {
          const key = await backend.generate({ value: `w${id}-${n}` });
          acknowledged.set(key, `w${id}-${n}`);
          await backend.set(key, `w${id}-${n}-set`);
          acknowledged.set(key, `w${id}-${n}-set`);
          const read = await backend.get(key);
          expect(read).toEqual({ ok: true, value: `w${id}-${n}-set`, period: expect.any(Number) });
          outcomes.ok++;
        } catch (error) {
          if (isBackendError(error)) outcomes.backendError++;
          else outcomes.other.push(error);
          await sleep(20);
        }
        outcomes.slowestMs = Math.max(outcomes.slowestMs, performance.now() - started);
      }
    };
    const lag = watchEventLoopLag();
    const load = Promise.all(Array.from({ length: 16 }, (_, id) => worker(id)));
    await sleep(500);
    await server.restart(mode);
    await sleep(1500);
    running = false;
    await load;

    expect(outcomes.other).toEqual([]);
    expect(outcomes.backendError).toBeGreaterThan(0);
    // Each iteration is three operations, each bounded by timeoutMs (and any stall of this event loop, when its timer cannot fire).
    expect(outcomes.slowestMs).toBeLessThan(3 * (timeoutMs + lag()) + 500);

    // Service resumes without a new pool or backend.
    let resumed = false;
    for (let attempt = 0; attempt < 50 && !resumed; attempt++) {
      resumed = await backend.generate().then(() => true, () => false);
      if (!resumed) await sleep(100);
    }
    expect(resumed).toBe(true);
    const before = outcomes.ok;
    expect(before).toBeGreaterThan(0);

    // Every write the backend acknowledged is still there (an in-doubt write may have landed too; that is allowed).
    // Read back through a backend with the default timeout: the check is about what was kept, not about speed.
    const verifier = new PostgresBackend(pool);
    const reads = await Promise.all([...acknowledged].map(async ([key, value]) => ({ value, read: await verifier.get(key) })));
    const lost = reads.filter(({ value, read }) => !(read.ok && (read.value === value || read.value === `${value}-set`)));
    expect(lost).toEqual([]);
  }, 60_000);

  it('more operations in flight than the pool holds queue, then time out cleanly when the pool stays busy', async () => {
    const key = await backend.generate({ value: 'queued' });
    const held = await Promise.all(Array.from({ length: 8 }, () => pool.connect()));
    try {
      const started = performance.now();
      const lag = watchEventLoopLag();
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => backend.get(key)));
      const elapsed = performance.now() - started;
      expect(results.every((r) => r.status === 'rejected' && isBackendError(r.reason) && r.reason.code === 'timeout')).toBe(true);
      expect(elapsed).toBeLessThan(timeoutMs + 500 + lag());
    } finally {
      for (const client of held) client.release();
    }
    const results = await Promise.all(Array.from({ length: 50 }, () => backend.get(key)));
    expect(results.every((r) => r.ok && r.value === 'queued')).toBe(true);
  });
});

import { afterAll, describe } from 'vitest';
import { PostgresBackend } from '../../src/backends/postgres/index.js';
import { MemoryBackend } from '../../src/index.js';
import { dropTablesLike, postgresSkipReason, testPool } from '../support/postgres.js';
import { itFollowsTheModel } from './backend-model.js';

describe('backends against a model of the contract (fast-check)', () => {
  itFollowsTheModel('memory, with a controlled clock', async () => {
    let nowMs = 1_000_000;
    const backend = new MemoryBackend({ nowMs: () => nowMs, defaultPeriodSeconds: 60 });
    return { backend, advance: (seconds) => (nowMs += seconds * 1000) };
  }, 200);

  describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL', () => {
    const prefix = `sk_model_${process.pid}_`;
    const pool = testPool();
    let tables = 0;
    afterAll(async () => {
      await dropTablesLike(pool, prefix);
      await pool.end();
    });
    itFollowsTheModel('postgres (real clock: no time travel)', async () => {
      const backend = new PostgresBackend(pool, { table: `${prefix}${tables++}`, defaultPeriodSeconds: 60 });
      await backend.ensureSchema();
      return { backend, advance: undefined };
    });
  });
});

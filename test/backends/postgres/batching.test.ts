import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { generateKey } from '../../../src/index.js';
import { DATABASE_URL, dropTablesLike, postgresSkipReason } from '../../support/postgres.js';

const prefix = `sk_batching_${process.pid}_`;

/**
 * A real pg Pool that records the name of every statement sent through it,
 * on the pool or on a client it lends (the backend sends on a lent client
 * when it must not send a statement whose deadline passed in the pool's queue).
 */
class CountingPool extends pg.Pool {
  readonly sent: string[] = [];
  constructor(config: pg.PoolConfig) {
    super(config);
    this.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        this.#record(args[0]);
        return query(...args);
      };
    });
  }

  #record(config: unknown): void {
    const statement = config as { name?: string; text?: string } | string;
    this.sent.push(typeof statement === 'string' ? statement : (statement.name ?? statement.text ?? ''));
  }
}

const kindOf = (name: string) => /^sessionkit_([a-z]+)_/.exec(name)?.[1] ?? name;

describe.skipIf(postgresSkipReason !== undefined)('PostgresBackend batching', () => {
  const pool = new CountingPool({ connectionString: DATABASE_URL, max: 10 });
  pool.on('error', () => undefined);
  afterAll(async () => {
    await dropTablesLike(pool, prefix);
    await pool.end();
  });

  it('parallel gets share one statement, each keeping its own answer', async () => {
    const backend = new PostgresBackend(pool, { table: `${prefix}gets` });
    await backend.ensureSchema();
    const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => backend.generate({ value: `v${i}` })));
    const unset = await backend.generate();
    pool.sent.length = 0;
    const answers = await Promise.all([...keys.map((key) => backend.get(key)), backend.get(unset), backend.get(generateKey())]);
    expect(pool.sent.map(kindOf)).toEqual(['getmany']);
    expect(answers).toEqual([
      ...keys.map((_, i) => expect.objectContaining({ ok: true, value: `v${i}` })),
      { ok: false, error: 'NotSet' },
      { ok: false, error: 'NotFound' },
    ]);
    await backend.close();
  });

  it('parallel operations of each kind share one statement per kind; a lone get uses the one-key statement', async () => {
    const backend = new PostgresBackend(pool, { table: `${prefix}kinds` });
    await backend.ensureSchema();
    const keys = await Promise.all(Array.from({ length: 8 }, () => backend.generate({ value: '0' })));
    pool.sent.length = 0;
    await Promise.all([
      ...keys.slice(0, 4).map((key) => backend.set(key, 'set')),
      ...keys.slice(4).map((key) => backend.compareAndSet(key, '0', 'swapped')),
      ...Array.from({ length: 4 }, () => backend.put(generateKey(), 'put')),
    ]);
    // Each write statement stores a write token (the `t` forms); the table's columns were read once, at the first write.
    expect(pool.sent.map(kindOf).sort()).toEqual(['casmanyt', 'putmanynoownert', 'setmanyt']);
    pool.sent.length = 0;
    expect(await backend.get(keys[0]!)).toMatchObject({ ok: true, value: 'set' });
    expect(pool.sent.map(kindOf)).toEqual(['getone']);
    await backend.close();
  });

  it('more parallel gets than one statement holds (32) take as few statements as the in-flight limit allows', async () => {
    const backend = new PostgresBackend(pool, { table: `${prefix}many` });
    await backend.ensureSchema();
    const keys = Array.from({ length: 100 }, () => generateKey());
    pool.sent.length = 0;
    const answers = await Promise.all(keys.map((key) => backend.get(key)));
    expect(answers.every((answer) => !answer.ok && answer.error === 'NotFound')).toBe(true);
    // 100 gets: two statements of 32 at once, then what queued meanwhile (36) leaves as two more.
    expect(pool.sent.map(kindOf)).toEqual(['getmany', 'getmany', 'getmany', 'getmany']);
    await backend.close();
  });
});

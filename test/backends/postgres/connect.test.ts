import { describe, expect, it } from 'vitest';
import { connect, parseConninfo, PostgresBackend, poolConfigFor } from '../../../src/backends/postgres/index.js';
import { DATABASE_URL, postgresSkipReason, testPool } from '../../support/postgres.js';

describe('libpq-style connection options', () => {
  it('parses key=value conninfo with quoted values', () => {
    expect(parseConninfo(`host=db.local port=6543 dbname=app user='o\\'brien' password='a b'`)).toEqual({
      host: 'db.local',
      port: '6543',
      dbname: 'app',
      user: "o'brien",
      password: 'a b',
    });
  });

  it('named options override conninfo; hostaddr wins over host; requiressl means sslmode=require', () => {
    expect(poolConfigFor({ conninfo: 'host=a port=1 dbname=x', port: 2, hostaddr: '127.0.0.1', requiressl: '1', max: 3 })).toMatchObject({
      host: '127.0.0.1',
      port: 2,
      database: 'x',
      ssl: { rejectUnauthorized: false },
      max: 3,
    });
    expect(poolConfigFor({ conninfo: 'postgresql://u@h:5/d' })).toMatchObject({ connectionString: 'postgresql://u@h:5/d' });
    expect(poolConfigFor({ options: '-c statement_timeout=100' })).toMatchObject({ options: '-c statement_timeout=100' });
  });

  it('bad options are TypeErrors', () => {
    expect(() => poolConfigFor({ sslmode: 'sometimes' as never })).toThrow(TypeError);
    expect(() => poolConfigFor({ max: 0 })).toThrow(TypeError);
    expect(() => parseConninfo('not a conninfo')).toThrow(TypeError);
  });
});

describe('driver detection', () => {
  it('a handle that is none of the four drivers is a TypeError at setup, one that lacks part of a shape too', () => {
    const fn = () => undefined;
    const notDrivers: unknown[] = [
      null,
      undefined,
      42,
      'postgres://',
      {},
      fn,
      // postgres.js's shape on an object: the sql is itself a function.
      { unsafe: fn },
      // PGlite without waitReady, a pg Pool without totalCount, a pg Client without connect.
      { exec: fn, query: fn },
      { connect: fn },
      { query: fn },
    ];
    for (const db of notDrivers) {
      expect(() => new PostgresBackend(db as never, { pruneIntervalSeconds: false }), String(db)).toThrow(
        new TypeError('PostgresBackend needs a pg Pool or Client, a postgres.js sql, or a PGlite instance'),
      );
    }
  });
});

describe.skipIf(postgresSkipReason !== undefined)('connect()', () => {
  it('opens a pool from a conninfo, checks it, and close() ends it', async () => {
    const url = new URL(DATABASE_URL);
    const backend = await connect({
      conninfo: `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user=${decodeURIComponent(url.username)}`,
      table: `sk_connect_${process.pid}`,
    });
    await backend.ensureSchema();
    const key = await backend.generate({ value: 'via connect' });
    expect(await backend.get(key)).toMatchObject({ ok: true, value: 'via connect' });
    await backend.clear(key);
    await backend.close();
    const cleanup = testPool(1);
    await cleanup.query(`DROP TABLE "sk_connect_${process.pid}"`);
    await cleanup.end();
    await expect(backend.get(key)).rejects.toMatchObject({ code: 'closed' });
  });
});

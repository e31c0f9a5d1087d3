import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBackend, ocamlSessionSchemaSql } from '../../../src/backends/postgres/index.js';
import { generateKey, type SessionEvent } from '../../../src/index.js';

describe("PostgresBackend owner operations on ocaml-session's table (PGlite)", () => {
  const db = new PGlite();
  // Starting PGlite (compiling its WebAssembly) is not an operation: keep it out of timeoutMs.
  beforeAll(async () => {
    await db.waitReady;
    await db.exec(ocamlSessionSchemaSql('"seed_only"'));
  }, 60_000);
  afterAll(() => db.close());

  it('listByOwner and clearByOwner reject with schema_outdated, and onEvent receives each as an error event', async () => {
    const events: SessionEvent[] = [];
    const backend = new PostgresBackend(db, { table: 'seed_only', onEvent: (event) => events.push(event) });
    await expect(backend.listByOwner('ada')).rejects.toMatchObject({ name: 'BackendError', code: 'schema_outdated' });
    await expect(backend.clearByOwner('ada', { except: generateKey() })).rejects.toMatchObject({ name: 'BackendError', code: 'schema_outdated' });
    expect(events).toMatchObject([
      { type: 'error', store: 'postgres:"seed_only"', during: 'listByOwner', error: { code: 'schema_outdated' } },
      { type: 'error', store: 'postgres:"seed_only"', during: 'clearByOwner', error: { code: 'schema_outdated' } },
    ]);
    // Bad input stays a TypeError, not an event.
    await expect(backend.listByOwner('')).rejects.toThrow(TypeError);
    expect(events).toHaveLength(2);
    await backend.close();
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESERVED_SESSION_NAMES } from '../../src/adapters/express/index.js';
import { compileSnippets } from '../support/compile-snippets.js';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/migrating.md'), 'utf8');
const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Type-checks every ```ts block of docs/migrating.md as its own module, against the sources. */
describe('docs/migrating.md', () => {
  it('has the snippets of the three roads, Passport and Fastify', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
  });

  it('lists exactly the reserved names of req.session', () => {
    const listed = doc.match(/^`id`, `cookie`[^]*?are reserved/m)?.[0] ?? '';
    expect([...listed.matchAll(/`(\w+)`/g)].map((match) => match[1]).sort()).toEqual([...RESERVED_SESSION_NAMES].sort());
  });

  it('every snippet type-checks', () => {
    expect(compileSnippets(root, snippets.map((code, index) => ({ name: `migrating-snippet-${index}`, code })))).toEqual([]);
  }, 60_000);
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSnippets } from '../support/compile-snippets.js';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/http.md'), 'utf8');
const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Names the snippets use without defining, each with a declaration used only when the snippet lacks its own. */
const ambient: Array<[name: string, declaration: string]> = [
  ['Data', 'interface Data { user?: string; count?: number }'],
  ['backend', "declare const backend: import('sessionkit').MemoryBackend;"],
  ['req', "declare const req: import('node:http').IncomingMessage;"],
  ['res', "declare const res: import('node:http').ServerResponse;"],
  ['Session', "import type { Session } from 'sessionkit/http';"],
];

const definesOrImports = (source: string, name: string) =>
  new RegExp(`(?:interface|type|const|let|class|function)\\s+${name}\\b|import[^;]*\\b${name}\\b[^;]*from`).test(source);

/**
 * Type-checks every ```ts block of docs/http.md as its own module, against
 * the sources (`sessionkit/*` mapped to src/), so the documentation cannot
 * drift from the API.
 */
describe('docs/http.md', () => {
  it('has TypeScript snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
  });

  it('every snippet type-checks', () => {
    const withAmbient = snippets.map((snippet, index) => {
      const preamble = ambient.filter(([name]) => !definesOrImports(snippet, name)).map(([, declaration]) => declaration);
      return { name: `docs-snippet-${index}`, code: `${preamble.join('\n')}\n${snippet}` };
    });
    expect(compileSnippets(root, withAmbient)).toEqual([]);
  }, 60_000);
});

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileSnippets } from './support/compile-snippets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// docs/http.md has its own check with the names its snippets share (test/http/docs-snippets.test.ts); the README's blocks are files (test/readme.test.ts).
const documents = readdirSync(path.join(root, 'docs'))
  .filter((name) => name.endsWith('.md') && name !== 'http.md')
  .map((name) => `docs/${name}`);
// A block under `<!-- file: path -->` is a verbatim copy of that file, which the type-check compiles
// where it lives (with its neighbours) and test/frameworks-doc.test.ts compares with the block.
const snippets = documents.flatMap((document) =>
  [...readFileSync(path.join(root, document), 'utf8').matchAll(/(<!-- file: [^>]*-->\n)?```ts\n([\s\S]*?)```/g)]
    .map((match, index) => ({ name: `${document.replace(/\W/g, '-')}-${index}`, code: match[2]!, copy: match[1] !== undefined }))
    .filter(({ copy }) => !copy)
    .map(({ name, code }) => ({ name, code })),
);

describe('TypeScript blocks in docs/ compile against the sources', () => {
  it('finds the blocks (docs/redis.md has three)', () => {
    expect(snippets.filter(({ name }) => name.startsWith('docs-redis-md')).length).toBe(3);
  });

  it('a block that does not compile is reported', () => {
    expect(compileSnippets(root, [{ name: 'broken', code: "import { MemoryBackend } from 'sessionkit';\nconst n: number = new MemoryBackend();\n" }])).toEqual([
      expect.stringMatching(/^broken\.ts: Type 'MemoryBackend' is not assignable to type 'number'/),
    ]);
  });

  it('every block type-checks', () => {
    expect(compileSnippets(root, snippets)).toEqual([]);
  }, 60_000);
});

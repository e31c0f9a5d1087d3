import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(`${root}docs/frameworks.md`, 'utf8');
const blocks = [...doc.matchAll(/<!-- file: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map(([, file, code]) => ({ file: file!, code: code! }));
const sections = doc.split(/^## /m).slice(1);

/** The example files under examples/frameworks (tests and configuration aside). */
const exampleFiles = readdirSync(`${root}examples/frameworks`, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => `examples/frameworks/${name}`);

// docs/frameworks.md shows real files: type-checked by `npm run typecheck` and run by the tests beside them.
describe('docs/frameworks.md', () => {
  it.each(blocks)('$file matches the file it shows', ({ file, code }) => {
    expect(code).toBe(readFileSync(`${root}${file}`, 'utf8'));
  });

  it('shows every example file', () => {
    expect(blocks.map((b) => b.file).sort()).toEqual(expect.arrayContaining(exampleFiles.sort()));
  });

  it('every framework or runtime section has an example', () => {
    const withoutExample = sections.filter((section) => !section.startsWith('What runs where') && !section.includes('<!-- file: ')).map((s) => s.split('\n')[0]);
    expect(withoutExample).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(`${root}docs/writing-a-backend.md`, 'utf8');
const blocks = [...doc.matchAll(/<!-- file: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map(([, file, code]) => ({ file: file!, code: code! }));

// The guide shows real files: the type-check compiles them and examples/backend-kit/map-backend.test.ts runs the conformance suite on the backend.
describe('docs/writing-a-backend.md', () => {
  it('shows the backend and its conformance test', () => {
    expect(blocks.map((block) => block.file)).toEqual(['examples/backend-kit/map-backend.ts', 'examples/backend-kit/map-backend.test.ts']);
  });

  it.each(blocks)('$file matches the file it shows', ({ file, code }) => {
    expect(code).toBe(readFileSync(`${root}${file}`, 'utf8'));
  });
});

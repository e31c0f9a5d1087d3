import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const snippets = [...readme.matchAll(/<!-- file: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map(([, file, code]) => ({ file: file!, code: code! }));

// README snippets are real files: type-checked by `npm test` and run by their own tests.
describe('README code blocks', () => {
  it('has snippets to check', () => expect(snippets.length).toBeGreaterThanOrEqual(2));
  it.each(snippets)('$file matches the file it shows', ({ file, code }) => {
    expect(code).toBe(readFileSync(`${root}${file}`, 'utf8'));
  });
});

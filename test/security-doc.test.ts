import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const rows = readFileSync(`${root}SECURITY.md`, 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| requirement') && !line.startsWith('| fault |') && !line.startsWith('|---'));

// SECURITY.md must point at real tests: every file it names exists, and every
// quoted test name is found in one of the files its row names.
describe('SECURITY.md references', () => {
  it('has rows', () => expect(rows.length).toBeGreaterThan(20));
  it.each(rows.map((row) => [row.split('|')[1]!.trim().slice(0, 60), row]))('%s', (_requirement, row) => {
    const evidence = row.split('|')[3] ?? '';
    const files = [...evidence.matchAll(/`((?:test|examples)\/[^`]+)`/g)].map(([, file]) => file!);
    expect(files.length).toBeGreaterThan(0);
    const named = [...evidence.matchAll(/"([^"]+)"/g)].map(([, name]) => name!);
    const present = files.filter((file) => existsSync(`${root}${file}`));
    for (const file of files) expect(present, `${file} is missing`).toContain(file);
    const texts = present.map((file) => readFileSync(`${root}${file}`, 'utf8'));
    // A name is quoted after the file it belongs to; look in that row's files, and the suite files they run.
    const haystack = texts.join('\n') + readFileSync(`${root}src/testkit/backend-conformance.ts`, 'utf8') + readFileSync(`${root}test/adapters/support/adapter-suite.ts`, 'utf8');
    for (const name of named) expect(haystack, name).toContain(name);
  });
});

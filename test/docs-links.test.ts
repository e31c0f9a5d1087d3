import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { brokenLinks, headingAnchors, relativeLinks } from './support/markdown-links.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const documents = ['README.md', 'SECURITY.md', 'BENCHMARKS.md', ...readdirSync(path.join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

describe('relative links in the documentation resolve', () => {
  it('finds the documents and their links', () => {
    expect(documents).toContain('docs/cli.md');
    expect(documents.flatMap((document) => relativeLinks(readFileSync(path.join(root, document), 'utf8'))).length).toBeGreaterThan(5);
  });

  it('the anchor rule matches GitHub headings', () => {
    expect([...headingAnchors('## Sessions by owner ("log out everywhere")\n## `revoke KEY` and `revoke --owner ID`\n## A\n## A\n')]).toEqual([
      'sessions-by-owner-log-out-everywhere',
      'revoke-key-and-revoke---owner-id',
      'a',
      'a-1',
    ]);
  });

  it('reports a missing file and a missing anchor', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'links-'));
    try {
      writeFileSync(path.join(dir, 'a.md'), '# A\n[ok](#a) [ok](a.md#a) [gone](b.md) [no anchor](a.md#nope) `[code](c.md)`\n');
      expect(brokenLinks(dir, 'a.md')).toEqual(['b.md: no such file', 'a.md#nope: no heading with anchor #nope']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(documents)('%s', (document) => {
    expect(brokenLinks(root, document)).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entryExports } from '../support/entry-exports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const section = readme.slice(readme.indexOf('## Public API'), readme.indexOf('\n## ', readme.indexOf('## Public API') + 1));
const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name!).sort();
const listed = new Map(
  [...section.matchAll(/^\| `(sessionkit[^`]*)` \|([^|]*)\|([^|]*)\|$/gm)].map(([, entry, values, types]) => [entry!, { values: names(values!), types: names(types!) }]),
);
const actual = entryExports();

// README.md "Public API" is the list users read: it must be what each entry point exports, no more, no less.
describe("README's Public API", () => {
  it('has a row for each entry point of package.json, and no other', () => {
    expect([...listed.keys()].sort()).toEqual(actual.map((entry) => entry.name).sort());
  });

  it.each(actual)('$name: the values listed are the ones the module has at run time', async ({ name, source, values }) => {
    const loaded = Object.keys(await import(source)).sort();
    expect(loaded).toEqual(values);
    expect(listed.get(name)?.values).toEqual(loaded);
  });

  it.each(actual)('$name: the types listed are the ones it exports', ({ name, types }) => {
    expect(listed.get(name)?.types).toEqual(types);
  });

  // Each adapter has its own of these on purpose: the same verb for its framework.
  const perAdapter = new Set(['getSession', 'sessionMiddleware', 'withSession']);
  it('a name exported by several entry points is one object everywhere (one name, one thing)', async () => {
    const seen = new Map<string, { entry: string; value: unknown }>();
    for (const { name: entry, source } of actual) {
      for (const [name, value] of Object.entries(await import(source))) {
        if (perAdapter.has(name)) continue;
        const first = seen.get(name);
        if (first === undefined) seen.set(name, { entry, value });
        else expect(value, `${name} in ${entry} and ${first.entry}`).toBe(first.value);
      }
    }
  });
});

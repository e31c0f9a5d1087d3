import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_NAMES, ExitCode } from '../../src/cli/exit-codes.js';
import { COMMAND_HELP, TOP_HELP } from '../../src/cli/help.js';
import { OPTIONS } from '../../src/cli/run.js';
import { CONNINFO_KEYS } from '../../src/cli/store-url.js';

const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md matches the command', () => {
  it('the exit code table lists every code with its --json name, and nothing else', () => {
    const rows = [...doc.matchAll(/^\| (\d+) \|\s*(?:`(\w+)`)?\s*\|/gm)].map((match) => [Number(match[1]), match[2] ?? null]);
    const expected = Object.values(ExitCode).map((code) => [code, code === 0 || code === 1 ? null : EXIT_CODE_NAMES[code]]);
    expect(rows).toEqual(expected);
  });

  it('every exit code is in the top-level help', () => {
    for (const code of Object.values(ExitCode)) expect(TOP_HELP).toMatch(new RegExp(`\\b${code}\\s{1,2}\\S`));
  });

  it('every command has a section and every option is documented', () => {
    for (const command of Object.keys(COMMAND_HELP)) expect(doc).toContain(`### \`${command}`);
    expect(Object.keys(OPTIONS).filter((option) => !doc.includes(`--${option}`))).toEqual([]);
  });

  it('every option the page names exists in the command', () => {
    const named = new Set([...doc.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((match) => match[1]!));
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((option) => !(option in OPTIONS))).toEqual([]);
  });

  it('the libpq keys the page lists are the ones the command accepts', () => {
    const row = /^\| where \|(.*)$/m.exec(doc)?.[1] ?? '';
    const keys = /\(keys ([^:]+):/.exec(row)?.[1] ?? '';
    expect([...keys.matchAll(/`(\w+)`/g)].map((match) => match[1])).toEqual([...CONNINFO_KEYS]);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './measure.js';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Prints a Markdown table of `results` with, for each operation and
 * concurrency, the ratio of `subject` (sessionkit) to every other library.
 */
export function printTable(title: string, results: Measurement[], subject = 'sessionkit'): string {
  const lines = [`### ${title}`, '', '| operation | in flight | library | ops/s | p50 ms | p99 ms | errors | sessionkit ÷ this |', '|---|---:|---|---:|---:|---:|---:|---:|'];
  for (const row of results) {
    const mine = results.find((r) => r.library === subject && r.operation === row.operation && r.inFlight === row.inFlight);
    const ratio = mine && row.library !== subject ? `${fmt(mine.opsPerSecond / row.opsPerSecond, 2)}x` : '';
    lines.push(`| ${row.operation} | ${row.inFlight} | ${row.library} | ${fmt(row.opsPerSecond)} | ${fmt(row.p50Ms, 2)} | ${fmt(row.p99Ms, 2)} | ${row.errors} | ${ratio} |`);
  }
  const text = lines.join('\n');
  console.log(`${text}\n`);
  return text;
}

/** Saves raw results as `bench/results/<name>.json` for the report generator. */
export function saveResults(name: string, data: unknown): void {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, data }, null, 2)}\n`);
}

// Markdown helpers for the generated BENCHMARKS.md.

/** A number for a table cell: thousands separators, `digits` decimals; NaN/undefined as '–'. */
export function num(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A Markdown table; `align` per column: 'l' or 'r'. */
export function table(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const rule = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(header), `|${rule.join('|')}|`, ...rows.map(line)].join('\n');
}

/** Renders an array of flat objects (e.g. a bench's `targets`) as a table, one column per key. */
export function objectsTable(objects: Record<string, unknown>[]): string {
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  const cell = (value: unknown): string => {
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : num(value, 2);
    if (typeof value === 'boolean') return value ? 'yes' : 'NO';
    if (Array.isArray(value)) return value.map(cell).join(', ');
    if (value === undefined || value === null) return '–';
    if (isSpread(value)) return spreadCell(value, 2);
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  return table(keys, objects.map((o) => keys.map((k) => cell(o[k]))));
}

/** A median with the range it came from (values over rounds). */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The median of `values` (the mean of the middle two for an even count) and their range. */
export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function isSpread(value: unknown): value is Spread {
  return typeof value === 'object' && value !== null && ['min', 'median', 'max'].every((k) => typeof (value as Record<string, unknown>)[k] === 'number');
}

/** `min–max` of a spread. */
export const range = (min: number, max: number, digits = 0) => `${num(min, digits)}–${num(max, digits)}`;

/** A spread as a table cell: `median (min–max)`. */
export const spreadCell = (s: Spread, digits: number) => `${num(s.median, digits)} (${range(s.min, s.max, digits)})`;

/** Formatting for the human output (the `--json` output is the report objects as they are). */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A value safe to print on a terminal: one with control characters (escape
 * sequences, also the C1 ones such as U+009B, which JSON.stringify leaves
 * raw) is shown as a JSON string with every one of them escaped.
 */
export function printable(text: string): string {
  if (!CONTROL.test(text)) return text;
  return JSON.stringify(text).replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `3599` → `59 min 59 s`; `90061` → `1 d 1 h 1 min 1 s`. */
export function formatSeconds(totalSeconds: number): string {
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  let rest = totalSeconds;
  const parts: string[] = [];
  for (const [size, name] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${name}`);
  }
  return parts.length === 0 ? '0 s' : parts.join(' ');
}

/** `49152` → `48 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Two columns, the first padded: `[['live', '12']]` → `  live  12`. */
export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
}

/** `word` as one shell word: as it is when that is safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w.:@%+,/=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds, printable } from '../../src/cli/output.js';

describe('human output helpers', () => {
  it.each([
    [0, '0 s'],
    [59, '59 s'],
    [3600, '1 h'],
    [3599, '59 min 59 s'],
    [604_800, '7 d'],
    [90_061, '1 d 1 h 1 min 1 s'],
  ])('formatSeconds(%i) = %s', (seconds, text) => expect(formatSeconds(seconds)).toBe(text));

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [8192, '8.0 KiB'],
    [49_152, '48 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('formatBytes(%i) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it('printable escapes control characters (terminal escapes) and leaves the rest alone', () => {
    expect(printable('{"userId":42} é ✓')).toBe('{"userId":42} é ✓');
    expect(printable('a\u001b[2Jb')).toBe('"a\\u001b[2Jb"');
    expect(printable('line\nbreak')).toBe('"line\\nbreak"');
    expect(printable('\u009b31m')).toBe('"\\u009b31m"');
  });
});

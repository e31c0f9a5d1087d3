import { describe, expect, it, vi } from 'vitest';
import { msUntil } from '../../src/core/deadline.js';

describe('msUntil', () => {
  it('gives whole milliseconds, rounded up (a wait is never cut short), and 0 for a deadline reached or passed', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(1000);
    try {
      expect(msUntil(1000.2)).toBe(1);
      expect(msUntil(3500.5)).toBe(2501);
      expect(msUntil(1003)).toBe(3);
      expect(msUntil(1000)).toBe(0);
      expect(msUntil(995.5)).toBe(0);
    } finally {
      now.mockRestore();
    }
  });
});

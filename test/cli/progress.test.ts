import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function recorder(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (text: string) => writes.push(text) } };
}

describe('progress', () => {
  it('on a terminal: one bar redrawn in place, at most every 100 ms, ending on a new line', () => {
    const { writes, stream } = recorder(true, 60);
    let now = 0;
    const progress = createProgress(stream, { label: 'purged', total: 400, plainLines: false, nowMs: () => now });
    progress.update(100);
    now = 50;
    progress.update(200); // too soon: skipped
    now = 150;
    progress.update(300);
    progress.finish(400);
    expect(writes).toHaveLength(3);
    for (const write of writes) expect(write.startsWith('\rpurged [')).toBe(true);
    expect(writes[0]).toMatch(/\[#+-+\]  25% 100\/400$/);
    expect(writes[2]).toMatch(/\[#+\] 100% 400\/400\n$/);
    // The line fits the terminal's width.
    for (const write of writes) expect(write.replace(/[\r\n]/g, '').length).toBeLessThanOrEqual(60);
  });

  it('off a terminal: plain lines, the first at once, then at most one a second, and always the last', () => {
    const { writes, stream } = recorder(false);
    let now = 0;
    const progress = createProgress(stream, { label: 'purged', total: 3000, plainLines: true, nowMs: () => now });
    progress.update(1000);
    now = 500;
    progress.update(2000);
    now = 1200;
    progress.update(2500);
    progress.finish(3000);
    expect(writes).toEqual(['purged 1,000/3,000 (33%)\n', 'purged 2,500/3,000 (83%)\n', 'purged 3,000/3,000 (100%)\n']);
  });

  it('the total grows when more is done than expected (rows expired meanwhile)', () => {
    const { writes, stream } = recorder(false);
    const progress = createProgress(stream, { label: 'purged', total: 10, plainLines: true });
    progress.finish(12);
    expect(writes).toEqual(['purged 12/12 (100%)\n']);
  });

  it('a job done in one step shows its state once: no line printed twice, and the bar still ends its line', () => {
    const plain = recorder(false);
    const once = createProgress(plain.stream, { label: 'imported', total: 5, plainLines: true });
    once.update(5);
    once.finish(5);
    expect(plain.writes).toEqual(['imported 5/5 (100%)\n']);

    const terminal = recorder(true, 60);
    const bar = createProgress(terminal.stream, { label: 'imported', total: 5, plainLines: false });
    bar.update(5);
    bar.finish(5);
    expect(terminal.writes).toHaveLength(2);
    expect(terminal.writes[0]).toMatch(/^\rimported \[#+\] 100% 5\/5$/);
    expect(terminal.writes[1]).toBe('\n');
  });

  it('off a terminal without plain lines (--json): silent', () => {
    const { writes, stream } = recorder(false);
    const progress = createProgress(stream, { label: 'purged', total: 10, plainLines: false });
    progress.update(5);
    progress.finish(10);
    expect(writes).toEqual([]);
  });
});

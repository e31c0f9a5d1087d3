/** Where progress goes: stderr, or anything with its shape. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Reports how far a job of a known size has got. */
export interface Progress {
  /** `done` units are finished (may exceed the expected total: it grows to match). */
  update(done: number): void;
  /** The job is over: draws the last state and leaves the cursor on a new line. */
  finish(done: number): void;
}

export interface ProgressOptions {
  /** What is counted, e.g. `purged`. */
  label: string;
  /** Expected units; the bar's 100 %. */
  total: number;
  /** Plain lines only when true; a TTY always gets the bar. */
  plainLines: boolean;
  /** Clock in milliseconds, for tests; default `performance.now`. */
  nowMs?: () => number;
}

const BAR_REDRAW_MS = 100;
const PLAIN_LINE_MS = 1000;
const MAX_BAR_WIDTH = 40;

/**
 * A progress bar redrawn in place on a terminal (`\r`, at most every 100 ms),
 * and otherwise plain lines (the first update, then at most one a second, and
 * the last) so that logs stay readable; nothing at all when `plainLines` is
 * false and the stream is not a terminal.
 */
export function createProgress(stream: ProgressStream, options: ProgressOptions): Progress {
  const { label, plainLines, nowMs = () => performance.now() } = options;
  let total = options.total;
  let lastDrawMs = -Infinity;
  /** What the last line or bar showed: the finish does not print it again. */
  let lastDrawn: string | undefined;
  const tty = stream.isTTY === true;
  if (!tty && !plainLines) return { update() {}, finish() {} };

  const draw = (done: number, force: boolean, ending: boolean) => {
    total = Math.max(total, done);
    const now = nowMs();
    if (!force && now - lastDrawMs < (tty ? BAR_REDRAW_MS : PLAIN_LINE_MS)) return;
    lastDrawMs = now;
    const ratio = total === 0 ? 1 : done / total;
    const counts = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    let shown: string;
    if (tty) {
      const text = ` ${percent} ${counts}`;
      const width = Math.max(10, Math.min(MAX_BAR_WIDTH, (stream.columns || 80) - label.length - text.length - 4));
      const filled = Math.round(ratio * width);
      shown = `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`;
    } else {
      shown = `${label} ${counts} (${percent.trim()})\n`;
    }
    // A job done in one step updates and finishes with the same state: it is shown once (the bar still ends its line).
    const newline = tty && ending ? '\n' : '';
    if (shown !== lastDrawn) stream.write(shown + newline);
    else if (newline !== '') stream.write(newline);
    lastDrawn = shown;
  };

  let started = false;
  return {
    update(done) {
      draw(done, !started, false);
      started = true;
    },
    finish(done) {
      draw(done, true, true);
    },
  };
}

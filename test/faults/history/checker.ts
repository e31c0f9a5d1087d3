/**
 * The history checker: a pure function over what the clients recorded and
 * what the store holds at the end, in the manner of Jepsen's checkers.
 *
 * Every write appends its own operation id to the JSON list the key holds
 * (a compare-and-set on a key many clients share, or a `set` / `put` on a key
 * one client owns, after reading it). So the final list of a key says which
 * writes landed and how many times each, and every value a read saw must be a
 * prefix of that final list (values only ever grow by appending).
 */

/** How an operation ended, as its caller heard it. */
export type Outcome = 'ok' | 'fail' | 'indeterminate';

/** One write as a client invoked it and heard its answer. */
export interface WriteOperation {
  /** Unique across the history; what the write appends to the key's list. */
  id: string;
  key: string;
  kind: 'compareAndSet' | 'set' | 'put';
  /** `ok`: stored exactly once; `fail`: never stored; `indeterminate`: stored at most once. */
  outcome: Outcome;
  /**
   * Why, when not `ok`: `conflict` / `NotFound` (compare-and-set answers), a
   * BackendError code, `untyped` (a rejection that was not a BackendError) or
   * `no-answer` (the call never settled).
   */
  code?: string;
  /** For `untyped`: the rejection's name, code, message and first stack frames, to find the path that threw it. */
  error?: string;
  invokedAtMs: number;
  completedAtMs: number;
}

/** A successful read of a key during the run: the list it held then, or `missing` when the session was gone. */
export interface ReadObservation {
  key: string;
  ops: readonly string[] | 'missing';
  atMs: number;
  /** For `missing`: what the read answered (`NotFound`, `NotSet`, or a value that is no list of ids). */
  answer?: string;
}

/** A read that failed: `code` is the BackendError code, `untyped` or `no-answer` as for writes. */
export interface FailedRead {
  key: string;
  code: string;
  /** As {@link WriteOperation.error}. */
  error?: string;
  atMs: number;
}

/** What the store holds at the end, read after every fault healed: the list, `missing`, or `unreadable` (no read succeeded). */
export type FinalValue = readonly string[] | 'missing' | 'unreadable';

export interface History {
  /** Every key the run wrote to (each generated before the run with the empty list). */
  keys: readonly string[];
  writes: readonly WriteOperation[];
  reads: readonly ReadObservation[];
  /** Reads that failed (absent: none). */
  failedReads?: readonly FailedRead[];
  /** Errors the run saw escape to where nothing handled them (an 'error' event with no listener of the library's): each would end a real process. */
  escapedErrors?: readonly string[];
  finals: ReadonlyMap<string, FinalValue>;
}

export type AnomalyKind =
  /** An `ok` write absent from its key's final list. */
  | 'acknowledged-missing'
  /** An `ok` write present more than once. */
  | 'acknowledged-duplicated'
  /** A write reported as not applied (`fail`) that is present. */
  | 'failed-present'
  /** An `indeterminate` write present more than once. */
  | 'indeterminate-duplicated'
  /** A value the store once held (seen by a read) that the final value does not extend, or a key that vanished. */
  | 'lost-value'
  /** An id in a stored list that no write of that key carried. */
  | 'unknown-operation'
  /** An operation (write or read) that rejected with something other than a BackendError, or never settled. */
  | 'untyped-or-no-answer'
  /** An error that nothing handled: the process would have gone down with the store. */
  | 'escaped-error'
  /** No final read of a key succeeded, so nothing about it can be proved. */
  | 'unreadable';

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'acknowledged-missing',
  'acknowledged-duplicated',
  'failed-present',
  'indeterminate-duplicated',
  'lost-value',
  'unknown-operation',
  'untyped-or-no-answer',
  'escaped-error',
  'unreadable',
];

export interface Anomaly {
  kind: AnomalyKind;
  key: string;
  operation?: string;
  detail: string;
}

export interface CheckResult {
  /** Writes per outcome. */
  outcomes: Record<Outcome, number>;
  /** Writes per non-ok code (`conflict`, `timeout`, `unavailable`, `indeterminate`...). */
  codes: Record<string, number>;
  /** `indeterminate` writes found stored (once). */
  indeterminateApplied: number;
  /** Acknowledged writes absent because a stored indeterminate set or put of their key, invoked before they were answered, replaced them (allowed: see above). */
  overwrittenByIndeterminate: number;
  /** Reads whose value the final one does not extend because such a write, invoked before the read, replaced it (allowed, as above). */
  readsOverwrittenByIndeterminate: number;
  anomalies: Anomaly[];
  /** Anomalies per kind (every kind present, 0 when none). */
  anomalyCounts: Record<AnomalyKind, number>;
}

function isPrefix(prefix: readonly string[], list: readonly string[]): boolean {
  return prefix.length <= list.length && prefix.every((id, i) => list[i] === id);
}

/** Checks `history`; never throws on a malformed one, it reports it as anomalies. */
export function checkHistory(history: History): CheckResult {
  const outcomes: Record<Outcome, number> = { ok: 0, fail: 0, indeterminate: 0 };
  const codes: Record<string, number> = {};
  const anomalies: Anomaly[] = [];
  let indeterminateApplied = 0;
  let overwrittenByIndeterminate = 0;
  let readsOverwrittenByIndeterminate = 0;
  /** Per key, the invocation times of the stored blind indeterminate writes (see below). */
  const blindLandings = new Map<string, number[]>();

  const writesByKey = new Map<string, Map<string, WriteOperation>>();
  for (const key of history.keys) writesByKey.set(key, new Map());
  for (const write of history.writes) {
    outcomes[write.outcome] += 1;
    if (write.outcome !== 'ok') codes[write.code ?? '(none)'] = (codes[write.code ?? '(none)'] ?? 0) + 1;
    if (write.code === 'untyped' || write.code === 'no-answer') {
      anomalies.push({ kind: 'untyped-or-no-answer', key: write.key, operation: write.id, detail: `${write.kind} ${write.id}: ${write.code}${write.error ? ` (${write.error})` : ''}` });
    }
    let writes = writesByKey.get(write.key);
    if (writes === undefined) writesByKey.set(write.key, (writes = new Map()));
    writes.set(write.id, write);
  }

  for (const [key, writes] of writesByKey) {
    const final = history.finals.get(key) ?? 'unreadable';
    if (final === 'unreadable') {
      anomalies.push({ kind: 'unreadable', key, detail: `no final read of ${key} succeeded` });
      continue;
    }
    if (final === 'missing') {
      anomalies.push({ kind: 'lost-value', key, detail: `${key} is gone at the end` });
    }
    const stored = final === 'missing' ? [] : final;
    const times = new Map<string, number>();
    for (const id of stored) times.set(id, (times.get(id) ?? 0) + 1);
    for (const [id, count] of times) {
      if (!writes.has(id)) anomalies.push({ kind: 'unknown-operation', key, operation: id, detail: `${key} holds ${id} ${count}x, which no write of it carried` });
    }
    // An indeterminate write has no end: it may take effect at any time after its invocation, once (the outcome
    // model), so a stored one is concurrent with every write after it. A blind one (set, put: no expected value)
    // that landed after a later acknowledged write replaced that write's list; the list it holds is the evidence.
    const storedBlindIndeterminate = [...writes.values()].filter((w) => w.outcome === 'indeterminate' && w.kind !== 'compareAndSet' && times.get(w.id) === 1);
    blindLandings.set(key, storedBlindIndeterminate.map((w) => w.invokedAtMs));
    for (const write of writes.values()) {
      const count = times.get(write.id) ?? 0;
      const what = `${write.kind} ${write.id} (${write.outcome}${write.code === undefined ? '' : ` ${write.code}`}, invoked at ${Math.round(write.invokedAtMs)} ms, answered at ${Math.round(write.completedAtMs)} ms) stored ${count}x`;
      if (write.outcome === 'ok' && count === 0 && storedBlindIndeterminate.some((w) => w.invokedAtMs < write.completedAtMs)) overwrittenByIndeterminate += 1;
      else if (write.outcome === 'ok' && count === 0) anomalies.push({ kind: 'acknowledged-missing', key, operation: write.id, detail: what });
      if (write.outcome === 'ok' && count > 1) anomalies.push({ kind: 'acknowledged-duplicated', key, operation: write.id, detail: what });
      if (write.outcome === 'fail' && count > 0) anomalies.push({ kind: 'failed-present', key, operation: write.id, detail: what });
      if (write.outcome === 'indeterminate' && count > 1) anomalies.push({ kind: 'indeterminate-duplicated', key, operation: write.id, detail: what });
      if (write.outcome === 'indeterminate' && count === 1) indeterminateApplied += 1;
    }
  }

  for (const read of history.reads) {
    const final = history.finals.get(read.key) ?? 'unreadable';
    if (final === 'unreadable') continue;
    if (read.ops === 'missing') {
      anomalies.push({ kind: 'lost-value', key: read.key, detail: `a read at ${Math.round(read.atMs)} ms found ${read.key} gone (${read.answer ?? 'missing'})` });
    } else if (final === 'missing' || !isPrefix(read.ops, final)) {
      // Read, then replaced by a blind indeterminate write invoked before the read that landed after it.
      if (final !== 'missing' && (blindLandings.get(read.key) ?? []).some((invokedAtMs) => invokedAtMs < read.atMs)) {
        readsOverwrittenByIndeterminate += 1;
        continue;
      }
      anomalies.push({
        kind: 'lost-value',
        key: read.key,
        detail: `a read at ${Math.round(read.atMs)} ms saw ${read.ops.length} ids ending ${read.ops.slice(-3).join(',')}, which the final value does not extend`,
      });
    }
  }

  for (const failed of history.failedReads ?? []) {
    if (failed.code === 'untyped' || failed.code === 'no-answer') {
      anomalies.push({ kind: 'untyped-or-no-answer', key: failed.key, detail: `a read at ${Math.round(failed.atMs)} ms: ${failed.code}${failed.error ? ` (${failed.error})` : ''}` });
    }
  }

  for (const message of history.escapedErrors ?? []) anomalies.push({ kind: 'escaped-error', key: '', detail: message });

  const anomalyCounts = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
  for (const anomaly of anomalies) anomalyCounts[anomaly.kind] += 1;
  return { outcomes, codes, indeterminateApplied, overwrittenByIndeterminate, readsOverwrittenByIndeterminate, anomalies, anomalyCounts };
}

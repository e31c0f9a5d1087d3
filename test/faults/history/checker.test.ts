import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS, checkHistory, type AnomalyKind, type FinalValue, type History, type Outcome, type ReadObservation, type WriteOperation } from './checker.js';

let clock = 0;
function write(id: string, outcome: Outcome, code?: string, key = 'k'): WriteOperation {
  clock += 10;
  return { id, key, kind: 'compareAndSet', outcome, ...(code === undefined ? {} : { code }), invokedAtMs: clock, completedAtMs: clock + 5 };
}
function read(ops: string[] | 'missing', key = 'k'): ReadObservation {
  return { key, ops, atMs: (clock += 10) };
}
function history(writes: WriteOperation[], final: FinalValue, reads: ReadObservation[] = []): History {
  return { keys: ['k'], writes, reads, finals: new Map([['k', final]]) };
}
/** The kinds found, each once, sorted. */
function kinds(h: History): AnomalyKind[] {
  return [...new Set(checkHistory(h).anomalies.map((a) => a.kind))].sort();
}

describe('the history checker', () => {
  it('passes a history the outcome model allows, and counts it', () => {
    const h = history(
      [
        write('a', 'ok'),
        write('b', 'fail', 'conflict'),
        write('c', 'fail', 'timeout'),
        write('d', 'indeterminate', 'indeterminate'),
        write('e', 'indeterminate', 'indeterminate'),
        write('f', 'ok'),
      ],
      ['a', 'd', 'f'],
      [read([]), read(['a']), read(['a', 'd']), read(['a', 'd', 'f'])],
    );
    const result = checkHistory(h);
    expect(result.anomalies).toEqual([]);
    expect(result.outcomes).toEqual({ ok: 2, fail: 2, indeterminate: 2 });
    expect(result.codes).toEqual({ conflict: 1, timeout: 1, indeterminate: 2 });
    expect(result.indeterminateApplied).toBe(1);
    expect(Object.values(result.anomalyCounts).every((n) => n === 0)).toBe(true);
    expect(Object.keys(result.anomalyCounts).sort()).toEqual([...ANOMALY_KINDS].sort());
  });

  it('fails an acknowledged write that is missing', () => {
    expect(kinds(history([write('a', 'ok'), write('b', 'ok')], ['a']))).toEqual(['acknowledged-missing']);
  });

  it('allows an acknowledged write replaced by a stored indeterminate set or put invoked before its answer (which may land at any time), and counts it; a compare-and-set never excuses one', () => {
    const blind = (id: string, outcome: Outcome, kind: WriteOperation['kind']): WriteOperation => ({ ...write(id, outcome, outcome === 'ok' ? undefined : 'indeterminate'), kind });
    // a put answered indeterminate while the server was frozen; b's put acknowledged later; a's lands after b's.
    const excused = checkHistory(history([blind('a', 'indeterminate', 'put'), blind('b', 'ok', 'put')], ['a']));
    expect(excused.anomalies).toEqual([]);
    expect(excused.overwrittenByIndeterminate).toBe(1);
    // Not stored, or not blind, or invoked only after b was answered: no evidence, so b's absence is an anomaly.
    expect(kinds(history([blind('a', 'indeterminate', 'put'), blind('b', 'ok', 'put')], []))).toEqual(['acknowledged-missing']);
    expect(kinds(history([blind('a', 'indeterminate', 'compareAndSet'), blind('b', 'ok', 'put')], ['a']))).toEqual(['acknowledged-missing']);
    expect(kinds(history([blind('b', 'ok', 'put'), blind('a', 'indeterminate', 'set')], ['a']))).toEqual(['acknowledged-missing']);
  });

  it('allows a read whose value a stored indeterminate set or put invoked before the read replaced later, and counts it; without such a write it is lost-value', () => {
    const blind = (id: string, outcome: Outcome, kind: WriteOperation['kind'], invokedAtMs: number): WriteOperation => ({ ...write(id, outcome, outcome === 'ok' ? undefined : 'indeterminate'), kind, invokedAtMs, completedAtMs: invokedAtMs + 5 });
    // a's put is answered indeterminate (frozen server); b's is acknowledged and read; a lands after the read.
    const writes = [blind('a', 'indeterminate', 'put', 0), blind('b', 'ok', 'put', 10)];
    const excused = checkHistory(history(writes, ['a'], [{ key: 'k', ops: ['b'], atMs: 20 }]));
    expect(excused.anomalies).toEqual([]);
    expect(excused.readsOverwrittenByIndeterminate).toBe(1);
    // The blind write invoked only after the read, not stored, or a compare-and-set: no excuse.
    expect(kinds(history([blind('b', 'ok', 'put', 10), blind('a', 'indeterminate', 'put', 30)], ['a'], [{ key: 'k', ops: ['b'], atMs: 20 }]))).toEqual(['acknowledged-missing', 'lost-value']);
    expect(kinds(history(writes, [], [{ key: 'k', ops: ['b'], atMs: 20 }]))).toEqual(['acknowledged-missing', 'lost-value']);
    expect(kinds(history([blind('a', 'indeterminate', 'compareAndSet', 0), blind('b', 'ok', 'put', 10)], ['a'], [{ key: 'k', ops: ['b'], atMs: 20 }]))).toEqual(['acknowledged-missing', 'lost-value']);
  });

  it('fails an acknowledged write applied twice', () => {
    const h = history([write('a', 'ok'), write('b', 'ok')], ['a', 'b', 'b']);
    expect(kinds(h)).toEqual(['acknowledged-duplicated']);
    expect(checkHistory(h).anomalies[0]?.operation).toBe('b');
  });

  it('fails a write reported as failed (timeout, unavailable, conflict) that is stored', () => {
    for (const code of ['timeout', 'unavailable', 'conflict', 'NotFound']) {
      expect(kinds(history([write('a', 'ok'), write('b', 'fail', code)], ['a', 'b'])), code).toEqual(['failed-present']);
    }
  });

  it('fails an indeterminate write stored twice, and allows it once or not at all', () => {
    expect(kinds(history([write('a', 'indeterminate', 'indeterminate')], ['a', 'a']))).toEqual(['indeterminate-duplicated']);
    expect(kinds(history([write('a', 'indeterminate', 'indeterminate')], ['a']))).toEqual([]);
    expect(kinds(history([write('a', 'indeterminate', 'indeterminate')], []))).toEqual([]);
  });

  it('fails a lost value: a read saw a value the final one does not extend', () => {
    // 'b' was indeterminate (so its absence alone is allowed), but a read saw it stored: it was lost after.
    const h = history([write('a', 'ok'), write('b', 'indeterminate', 'indeterminate'), write('c', 'ok')], ['a', 'c'], [read(['a', 'b'])]);
    expect(kinds(h)).toEqual(['lost-value']);
  });

  it('fails a key that vanished, seen by a read or at the end', () => {
    expect(kinds(history([write('a', 'fail', 'NotFound')], [], [read('missing')]))).toEqual(['lost-value']);
    expect(kinds(history([write('a', 'fail', 'NotFound')], 'missing'))).toEqual(['lost-value']);
    expect(kinds(history([write('a', 'ok')], 'missing'))).toEqual(['acknowledged-missing', 'lost-value']);
  });

  it('fails an id no write of that key carried', () => {
    const h: History = {
      keys: ['k', 'j'],
      writes: [write('a', 'ok', undefined, 'k'), write('b', 'ok', undefined, 'j')],
      reads: [],
      finals: new Map<string, FinalValue>([
        ['k', ['a', 'b']],
        ['j', ['b']],
      ]),
    };
    expect(kinds(h)).toEqual(['unknown-operation']);
  });

  it('fails a rejection that is not a BackendError, and a call that never settled', () => {
    expect(kinds(history([write('a', 'indeterminate', 'untyped')], []))).toEqual(['untyped-or-no-answer']);
    expect(kinds(history([write('a', 'indeterminate', 'no-answer')], ['a']))).toEqual(['untyped-or-no-answer']);
  });

  it('fails a read that rejected untyped or never settled, and allows a typed read failure', () => {
    const h = (code: string): History => ({ ...history([write('a', 'ok')], ['a']), failedReads: [{ key: 'k', code, atMs: 1 }] });
    expect(kinds(h('no-answer'))).toEqual(['untyped-or-no-answer']);
    expect(kinds(h('untyped'))).toEqual(['untyped-or-no-answer']);
    expect(kinds(h('timeout'))).toEqual([]);
  });

  it('fails an error that escaped to where nothing handled it', () => {
    expect(kinds({ ...history([write('a', 'ok')], ['a']), escapedErrors: ['read ECONNRESET'] })).toEqual(['escaped-error']);
  });

  it('fails a key it could not read at the end, rather than passing it unchecked', () => {
    expect(kinds(history([write('a', 'ok')], 'unreadable'))).toEqual(['unreadable']);
  });

  it('counts one anomaly per write and per read', () => {
    const result = checkHistory(history([write('a', 'ok'), write('b', 'ok'), write('c', 'fail', 'timeout')], ['c'], [read(['x']), read(['a'])]));
    expect(result.anomalyCounts['acknowledged-missing']).toBe(2);
    expect(result.anomalyCounts['failed-present']).toBe(1);
    expect(result.anomalyCounts['lost-value']).toBe(2);
  });
});

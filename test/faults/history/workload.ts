/**
 * The clients of the history checker: each loops read → write on per-key
 * counters through the public backend API and records every write's
 * invocation and outcome, while a nemesis breaks the store; then the final
 * values are read straight from the store and checked.
 */
import type { Backend } from '../../../src/core/contract.js';
import { isBackendError } from '../../../src/core/errors.js';
import { ANOMALY_KINDS, checkHistory, type CheckResult, type FailedRead, type FinalValue, type History, type Outcome, type ReadObservation, type WriteOperation } from './checker.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every backend has compareAndSet and put (the contract). */
export type WorkloadBackend = Backend;

export interface WorkloadOptions {
  /** The backend the clients use (through a proxy when the fault is in the network). */
  backend: WorkloadBackend;
  /** A backend on the same store reached directly, opened after the run, for the final values. */
  openVerifier: () => Promise<{ backend: Backend; close: () => Promise<void> }>;
  /** Injects its faults, heals them, and resolves with how many it injected. */
  nemesis: () => Promise<number>;
  /** The backend's `timeoutMs`. */
  timeoutMs: number;
  clients?: number;
  /** Keys every client compare-and-sets; each client also has one key of its own for `set` / `put`. */
  sharedKeys?: number;
  /** Load before the nemesis starts, and after it healed (default 2 × timeoutMs + 1.5 s: service must be back by then). */
  warmupMs?: number;
  cooldownMs?: number;
  /** Errors that escaped during the run (see {@link History.escapedErrors}), read once the run is over. */
  escapedErrors?: () => readonly string[];
  /** Wait between the end of the load and the final read, for a write told "not applied" that lands late; default timeoutMs + 1 s. */
  settleMs?: number;
  /** Pause of each client between operations, so that many combinations can run at once on a small machine. */
  thinkMs?: number;
}

export interface WorkloadReport {
  check: CheckResult;
  history: History;
  faults: number;
  readsOk: number;
  readsFailed: number;
  /** `ok` writes invoked after the nemesis healed: service came back. */
  okAfterHeal: number;
  /** From the heal to the answer of the first `ok` write invoked after it, in ms; undefined when none. */
  recoveryMs: number | undefined;
  /** Longest time a write took to settle, in ms. */
  maxWriteMs: number;
}

function parseOps(value: string): readonly string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((id) => typeof id === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { ok: false; error: 'no-answer' };

/** Settles `promise`, or gives up on it after `guardMs` (a call that never settles is itself an anomaly). */
async function settle<T>(promise: Promise<T>, guardMs: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: 'no-answer' }), guardMs);
  });
  try {
    return await Promise.race([promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One line for an error that is not the contract's typed failure: its name, code, first message line, and the
 * driver's and sessionkit's nearest frames, which is where such a defect is found.
 */
export function describeUntyped(error: unknown): string {
  const { name = typeof error, code = '', message = String(error), stack = '' } = (error ?? {}) as { name?: string; code?: string; message?: string; stack?: string };
  const lines = stack.split('\n');
  const driver = lines.find((line) => /node_modules\/(pg|pg-protocol|pg-pool|postgres|ioredis|@redis\/client)\//.test(line));
  const own = lines.find((line) => /\/src\//.test(line) && !line.includes('node_modules'));
  const short = (line: string | undefined) => line?.trim().replace(/^at /, '').replace(/.*(node_modules|checker)\//, '');
  return `${name}${code ? ` ${code}` : ''}: ${message.split('\n')[0]} [${short(driver) ?? 'no driver frame'}; ${short(own) ?? 'no sessionkit frame'}]`;
}

function classify(settled: Settled<unknown>): { outcome: Outcome; code?: string; error?: string } {
  if (settled.ok) {
    if (settled.value === undefined || settled.value === 'ok') return { outcome: 'ok' };
    // compareAndSet's 'conflict' / 'NotFound': not applied.
    return { outcome: 'fail', code: String(settled.value) };
  }
  if (settled.error === 'no-answer') return { outcome: 'indeterminate', code: 'no-answer' };
  if (isBackendError(settled.error)) {
    return settled.error.code === 'indeterminate' ? { outcome: 'indeterminate', code: 'indeterminate' } : { outcome: 'fail', code: settled.error.code };
  }
  // Not the typed failure the contract promises: count it as "may have happened" and as an anomaly.
  return { outcome: 'indeterminate', code: 'untyped', error: describeUntyped(settled.error) };
}

/** Runs the clients under the nemesis and checks what they recorded against the final values. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadReport> {
  const { backend, timeoutMs, clients = 6, sharedKeys = 3, warmupMs = 700, cooldownMs = 2 * timeoutMs + 1500, settleMs = timeoutMs + 1000, thinkMs = 10 } = options;
  const guardMs = 4 * timeoutMs + 3000;
  const empty = JSON.stringify([]);
  // Before any fault; retried because a loaded machine may miss the deadline while servers start.
  const generate = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await backend.generate({ value: empty });
      } catch (error) {
        if (attempt === 20) throw error;
        await sleep(500);
      }
    }
  };
  const shared: string[] = [];
  for (let i = 0; i < sharedKeys; i++) shared.push(await generate());
  const own: string[] = [];
  for (let i = 0; i < clients; i++) own.push(await generate());

  const started = performance.now();
  const now = () => performance.now() - started;
  const writes: WriteOperation[] = [];
  const reads: ReadObservation[] = [];
  const failedReads: FailedRead[] = [];
  let running = true;
  let healedAtMs = Number.POSITIVE_INFINITY;

  const client = async (clientIndex: number) => {
    let sequence = 0;
    while (running) {
      const draw = Math.random();
      const kind: WriteOperation['kind'] = draw < 0.7 ? 'compareAndSet' : draw < 0.85 ? 'set' : 'put';
      const key = kind === 'compareAndSet' ? shared[Math.floor(Math.random() * shared.length)]! : own[clientIndex]!;
      const got = await settle(backend.get(key), guardMs);
      if (!got.ok) {
        const { code = 'untyped', error } = classify(got);
        failedReads.push({ key, code, ...(error === undefined ? {} : { error }), atMs: now() });
        await sleep(25);
        continue;
      }
      const ops = got.value.ok ? parseOps(got.value.value) : undefined;
      if (!got.value.ok || ops === undefined) {
        const answer = got.value.ok ? `not a list of ids: ${JSON.stringify(got.value.value.slice(0, 60))}` : got.value.error;
        reads.push({ key, ops: 'missing', atMs: now(), answer });
        await sleep(25);
        continue;
      }
      reads.push({ key, ops, atMs: now() });
      const id = `c${clientIndex}.${sequence++}`;
      const value = JSON.stringify([...ops, id]);
      const invokedAtMs = now();
      const call: Promise<unknown> =
        kind === 'compareAndSet' ? backend.compareAndSet(key, got.value.value, value) : kind === 'set' ? backend.set(key, value) : backend.put(key, value);
      const { outcome, code, error } = classify(await settle(call, guardMs));
      writes.push({ id, key, kind, outcome, ...(code === undefined ? {} : { code }), ...(error === undefined ? {} : { error }), invokedAtMs, completedAtMs: now() });
      await sleep(outcome !== 'ok' && code !== 'conflict' ? 25 : thinkMs);
    }
  };

  const load = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  let faults = 0;
  try {
    await sleep(warmupMs);
    faults = await options.nemesis();
    healedAtMs = now();
    await sleep(cooldownMs);
  } finally {
    running = false;
    await load;
  }
  // A write told "not applied" that lands late must land before the final read to be caught.
  await sleep(settleMs);

  const finals = new Map<string, FinalValue>();
  const verifier = await options.openVerifier();
  try {
    for (const key of [...shared, ...own]) {
      let final: FinalValue = 'unreadable';
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const got = await settle(verifier.backend.get(key), guardMs);
        if (got.ok) {
          final = got.value.ok ? (parseOps(got.value.value) ?? 'missing') : 'missing';
          break;
        }
        await sleep(200);
      }
      finals.set(key, final);
    }
  } finally {
    await verifier.close();
  }

  const history: History = { keys: [...shared, ...own], writes, reads, failedReads, finals, escapedErrors: options.escapedErrors?.() ?? [] };
  const firstOkAfterHeal = Math.min(...writes.filter((w) => w.outcome === 'ok' && w.invokedAtMs > healedAtMs).map((w) => w.completedAtMs));
  return {
    check: checkHistory(history),
    history,
    faults,
    readsOk: reads.length,
    readsFailed: failedReads.length,
    recoveryMs: Number.isFinite(firstOkAfterHeal) ? Math.round(firstOkAfterHeal - healedAtMs) : undefined,
    okAfterHeal: writes.filter((w) => w.outcome === 'ok' && w.invokedAtMs > healedAtMs).length,
    maxWriteMs: Math.round(Math.max(0, ...writes.map((w) => w.completedAtMs - w.invokedAtMs))),
  };
}

/** One row of the table: a combination of driver and fault, and what its run found. */
export interface TableRow {
  driver: string;
  nemesis: string;
  report: WorkloadReport | undefined;
  error?: string;
}

/** The per-combination table (Markdown), with the anomaly kinds in a legend below. */
export function formatTable(rows: readonly TableRow[]): string {
  const header = ['driver', 'fault', 'writes', 'ok', 'fail (codes)', 'indeterminate (stored)', 'reads failed', 'faults injected', 'back after heal (ms)', 'max write ms', 'anomalies'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const { driver, nemesis, report, error } of rows) {
    if (report === undefined) {
      lines.push(`| ${driver} | ${nemesis} | run failed: ${(error ?? '').replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 200)} |||||||||`);
      continue;
    }
    const { check } = report;
    const failCodes = Object.entries(check.codes)
      .filter(([code]) => code !== 'indeterminate' && code !== 'no-answer' && code !== 'untyped')
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const anomalies = ANOMALY_KINDS.filter((kind) => check.anomalyCounts[kind] > 0)
      .map((kind) => `${kind} ${check.anomalyCounts[kind]}`)
      .join(', ');
    const total = check.outcomes.ok + check.outcomes.fail + check.outcomes.indeterminate;
    lines.push(
      `| ${driver} | ${nemesis} | ${total} | ${check.outcomes.ok} | ${check.outcomes.fail}${failCodes ? ` (${failCodes})` : ''} | ${check.outcomes.indeterminate} (${check.indeterminateApplied}${check.overwrittenByIndeterminate > 0 ? `; replaced ${check.overwrittenByIndeterminate} ok` : ''}${check.readsOverwrittenByIndeterminate > 0 ? `; replaced ${check.readsOverwrittenByIndeterminate} read` : ''}) | ${report.readsFailed} | ${report.faults} | ${report.recoveryMs ?? 'never'} | ${report.maxWriteMs} | ${anomalies || '0'} |`,
    );
  }
  const examples = rows.flatMap(({ driver, nemesis, report }) =>
    ANOMALY_KINDS.flatMap((kind) => (report?.check.anomalies ?? []).filter((anomaly) => anomaly.kind === kind).slice(0, 2)).map(
      (anomaly) => `- ${driver} × ${nemesis}: ${anomaly.kind}: ${anomaly.detail}`,
    ),
  );
  if (examples.length > 0) lines.push('', 'Examples of anomalies (up to 2 per kind and combination; times from the start of the load):', ...examples);
  return lines.join('\n');
}

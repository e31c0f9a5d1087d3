import { storeKeyOfSessionId } from '../../adapters/express-session/session-id.js';
import { MAX_EXPIRY_SECONDS } from '../../core/period.js';
import type { Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { wholeNumberFlag } from '../target.js';
import { openConnectPgSimple, openConnectRedis, type ImportSource, type SourceSession } from './import-sources.js';

const SOURCES = ['connect-pg-simple', 'connect-redis'] as const;
type SourceName = (typeof SOURCES)[number];
const DEFAULT_BATCH_SIZE = 500;

/** Sessions the import left in the source, by reason; none of them stops it. (Any id is copied: one that cannot be a key goes under the key SessionkitStore makes of it.) */
export interface ImportSkips {
  /** Not a JSON object. */
  notAnObject: number;
  /** Larger than the store's `maxValueBytes` (1 MiB unless configured). */
  tooLarge: number;
  /** Expires more than 2^31 - 1 seconds from now (about 68 years), or never: no backend holds such an expiry. */
  expiryTooFar: number;
  /** Refused by the store's checks for another reason (e.g. U+0000 in a Redis value). */
  unstorable: number;
}

/** What `import` did (or, with `--dry-run`, would do). */
export interface ImportReport {
  from: SourceName;
  source: string;
  dryRun: boolean;
  /** Live sessions read from the source. */
  read: number;
  /** Copied into the store (with `--dry-run`: would be). */
  imported: number;
  /** Already in the store (an earlier run, or written since by the app): left as they are. */
  existing: number;
  /** Expired between the read and the copy. */
  expired: number;
  /** Sessions left out, in all: the sum of {@link ImportReport.skippedBy}. Exit code 7 when not 0. */
  skipped: number;
  skippedBy: ImportSkips;
  durationMs: number;
}

const SKIP_WORDS: Readonly<Record<keyof ImportSkips, string>> = {
  notAnObject: 'not a JSON object',
  tooLarge: 'larger than the store\'s maxValueBytes',
  expiryTooFar: 'expiring beyond 2^31 s or never',
  unstorable: 'refused by the store\'s checks',
};

/** Why `session` cannot be copied into `backend`, or undefined when it can (as far as can be told before writing). */
function skipReason(session: SourceSession, maxValueBytes: number): keyof ImportSkips | undefined {
  if (session.value === undefined) return 'notAnObject';
  if (session.expirySeconds > MAX_EXPIRY_SECONDS) return 'expiryTooFar';
  if (Buffer.byteLength(session.value, 'utf8') > maxValueBytes) return 'tooLarge';
  return undefined;
}

/**
 * `sessionkit import --from connect-pg-simple|connect-redis`: copies every
 * live express-session session, with its data and expiry, into the store
 * under its own id (`put`; an id that cannot be a key under the key
 * `SessionkitStore` makes of it), so that express-session with `SessionkitStore`
 * answers the cookies users hold. A session already in the store is never
 * overwritten, which makes the command idempotent and resumable (run it
 * again after an interruption, or after the switch). A session the store
 * cannot hold is skipped and counted by reason, never the end of the
 * import: the command then exits 7 after copying everything else.
 */
export const importSessions: Command = {
  options: ['from', 'from-url', 'from-table', 'from-prefix', 'dry-run', 'batch-size'],
  fillsStore: true,
  checkArguments(positionals, values) {
    if (positionals.length > 0) throw new CliError(ExitCode.usage, `import takes no arguments, got ${JSON.stringify(positionals[0])}`);
    sourceName(values.from);
    if (values.from === 'connect-pg-simple' && values['from-prefix'] !== undefined) throw new CliError(ExitCode.usage, '--from-prefix is for connect-redis; connect-pg-simple takes --from-table');
    if (values.from === 'connect-redis' && values['from-table'] !== undefined) throw new CliError(ExitCode.usage, '--from-table is for connect-pg-simple; connect-redis takes --from-prefix');
    wholeNumberFlag(values['batch-size'] as string | undefined, '--batch-size', DEFAULT_BATCH_SIZE);
  },
  async run({ store, values, json, io }) {
    const from = sourceName(values.from);
    const batchSize = wholeNumberFlag(values['batch-size'] as string | undefined, '--batch-size', DEFAULT_BATCH_SIZE);
    const dryRun = values['dry-run'] === true;
    const { backend } = store;
    // The source is given the store's --timeout-ms.
    const { timeoutMs } = backend;
    await store.ready();

    const fromUrl = (values['from-url'] as string | undefined) ?? (from === 'connect-pg-simple' ? (values['database-url'] as string | undefined) ?? io.env.DATABASE_URL : (values['redis-url'] as string | undefined) ?? io.env.REDIS_URL);
    if (fromUrl === undefined || fromUrl.trim() === '') throw new CliError(ExitCode.usage, `no source: pass --from-url with the ${from === 'connect-pg-simple' ? 'PostgreSQL' : 'Redis'} URL that ${from} writes to`);
    const source: ImportSource =
      from === 'connect-pg-simple'
        ? await openConnectPgSimple(fromUrl, (values['from-table'] as string | undefined) ?? 'session', timeoutMs)
        : await openConnectRedis(fromUrl, (values['from-prefix'] as string | undefined) ?? 'sess:', timeoutMs, backend.defaultPeriod());
    const startedMs = performance.now();
    const skippedBy: ImportSkips = { notAnObject: 0, tooLarge: 0, expiryTooFar: 0, unstorable: 0 };
    const report: ImportReport = { from, source: source.where, dryRun, read: 0, imported: 0, existing: 0, expired: 0, skipped: 0, skippedBy, durationMs: 0 };
    const skip = (reason: keyof ImportSkips) => {
      skippedBy[reason] += 1;
      report.skipped += 1;
    };
    try {
      const total = await source.countLive();
      const progress = total > 0 ? createProgress(io.stderr, { label: dryRun ? 'checked' : 'imported', total, plainLines: !json }) : undefined;
      for await (const batch of source.batches(batchSize)) {
        await Promise.all(
          batch.map(async (session) => {
            report.read += 1;
            const reason = skipReason(session, backend.maxValueBytes);
            if (reason !== undefined) return skip(reason);
            if (session.expirySeconds <= 0) {
              report.expired += 1;
              return;
            }
            // Where SessionkitStore looks for this express-session id: the id itself, or a key made from an id that cannot be one.
            const key = storeKeyOfSessionId(session.sid);
            const present = await backend.get(key);
            if (present.ok || present.error === 'NotSet') {
              report.existing += 1;
              return;
            }
            try {
              if (!dryRun) await backend.put(key, session.value!, { expiry: session.expirySeconds });
              report.imported += 1;
            } catch (error) {
              // A TypeError is the backend's check of this one session (the store was not asked); a store failure ends the run.
              if (!(error instanceof TypeError)) throw error;
              skip('unstorable');
            }
          }),
        );
        progress?.update(report.read);
      }
      progress?.finish(report.read);
    } finally {
      await source.close().catch(() => undefined);
    }
    report.durationMs = Math.round(performance.now() - startedMs);
    const reasons = (Object.keys(SKIP_WORDS) as (keyof ImportSkips)[]).filter((reason) => skippedBy[reason] > 0).map((reason) => `${skippedBy[reason]} ${SKIP_WORDS[reason]}`);
    const skippedText = report.skipped === 0 ? 'none skipped' : `${report.skipped} skipped (${reasons.join(', ')}; they stay in the source)`;
    const text = `${dryRun ? 'Would import' : 'Imported'} ${report.imported} of ${report.read} live sessions from the ${source.where} into ${store.where}; ${report.existing} already there, ${report.expired} expired meanwhile, ${skippedText}.`;
    return { exitCode: report.skipped === 0 ? ExitCode.ok : ExitCode.skipped, json: report, text };
  },
};

function sourceName(value: unknown): SourceName {
  if (value === undefined) throw new CliError(ExitCode.usage, `import needs --from ${SOURCES.join('|')}`);
  if (!SOURCES.includes(value as SourceName)) throw new CliError(ExitCode.usage, `--from must be ${SOURCES.join(' or ')}, got ${JSON.stringify(value)}`);
  return value as SourceName;
}

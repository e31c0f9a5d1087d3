import { isWellFormedKey } from '../../core/keys.js';
import type { Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { wholeNumberFlag } from '../target.js';
import { openConnectPgSimple, openConnectRedis, type ImportSource } from './import-sources.js';

const SOURCES = ['connect-pg-simple', 'connect-redis'] as const;
type SourceName = (typeof SOURCES)[number];
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_TIMEOUT_MS = 5000;

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
  /** Not a JSON object: skipped. */
  unparsable: number;
  /** An id sessionkit cannot hold as a key (not 1 to 40 characters of A-Z a-z 0-9 + / = _ -): skipped. */
  invalidIds: number;
  durationMs: number;
}

/**
 * `sessionkit import --from connect-pg-simple|connect-redis`: copies every
 * live express-session session, with its data and expiry, into the store
 * under its own id (`put`), so that express-session with `SessionkitStore`
 * answers the cookies users hold. A session already in the store is never
 * overwritten, which makes the command idempotent and resumable (run it
 * again after an interruption, or after the switch).
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
    const timeoutMs = wholeNumberFlag(values['timeout-ms'] as string | undefined, '--timeout-ms', DEFAULT_TIMEOUT_MS);
    const dryRun = values['dry-run'] === true;
    const { backend } = store;
    await store.ready();

    const fromUrl = (values['from-url'] as string | undefined) ?? (from === 'connect-pg-simple' ? (values['database-url'] as string | undefined) ?? io.env.DATABASE_URL : (values['redis-url'] as string | undefined) ?? io.env.REDIS_URL);
    if (fromUrl === undefined || fromUrl.trim() === '') throw new CliError(ExitCode.usage, `no source: pass --from-url with the ${from === 'connect-pg-simple' ? 'PostgreSQL' : 'Redis'} URL that ${from} writes to`);
    const source: ImportSource =
      from === 'connect-pg-simple'
        ? await openConnectPgSimple(fromUrl, (values['from-table'] as string | undefined) ?? 'session', timeoutMs)
        : await openConnectRedis(fromUrl, (values['from-prefix'] as string | undefined) ?? 'sess:', timeoutMs, backend.defaultPeriod());
    const startedMs = performance.now();
    const report: ImportReport = { from, source: source.where, dryRun, read: 0, imported: 0, existing: 0, expired: 0, unparsable: 0, invalidIds: 0, durationMs: 0 };
    try {
      const total = await source.countLive();
      const progress = total > 0 ? createProgress(io.stderr, { label: dryRun ? 'checked' : 'imported', total, plainLines: !json }) : undefined;
      for await (const batch of source.batches(batchSize)) {
        await Promise.all(
          batch.map(async ({ sid, value, expirySeconds }) => {
            report.read += 1;
            if (value === undefined) report.unparsable += 1;
            else if (!isWellFormedKey(sid)) report.invalidIds += 1;
            else if (expirySeconds <= 0) report.expired += 1;
            else {
              const present = await backend.get(sid);
              if (present.ok || present.error === 'NotSet') report.existing += 1;
              else {
                if (!dryRun) await backend.put(sid, value, { expiry: expirySeconds });
                report.imported += 1;
              }
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
    const skipped = report.unparsable + report.invalidIds;
    const text = `${dryRun ? 'Would import' : 'Imported'} ${report.imported} of ${report.read} live sessions from the ${source.where} into ${store.where}; ${report.existing} already there, ${report.expired} expired meanwhile, ${skipped} skipped (${report.unparsable} not a JSON object, ${report.invalidIds} with an id that cannot be a key).`;
    return { exitCode: ExitCode.ok, json: report, text };
  },
};

function sourceName(value: unknown): SourceName {
  if (value === undefined) throw new CliError(ExitCode.usage, `import needs --from ${SOURCES.join('|')}`);
  if (!SOURCES.includes(value as SourceName)) throw new CliError(ExitCode.usage, `--from must be ${SOURCES.join(' or ')}, got ${JSON.stringify(value)}`);
  return value as SourceName;
}

import type { Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { REDIS_PURGE_NOTE } from '../redis-store.js';
import type { PurgeReport } from '../store.js';
import { wholeNumberFlag } from '../target.js';

const DEFAULT_BATCH_SIZE = 1000;

/**
 * `sessionkit purge`: counts the expired rows (so progress has a total), then
 * deletes them in batches through the backend's own `purgeExpired`, the same
 * statement its background pruning runs.
 */
export const purge: Command = {
  options: ['batch-size'],
  checkArguments(positionals, values) {
    if (positionals.length > 0) throw new CliError(ExitCode.usage, `purge takes no arguments, got ${JSON.stringify(positionals[0])}`);
    wholeNumberFlag(values['batch-size'] as string | undefined, '--batch-size', DEFAULT_BATCH_SIZE);
  },
  async run({ store, values, json, io }) {
    const batchSize = wholeNumberFlag(values['batch-size'] as string | undefined, '--batch-size', DEFAULT_BATCH_SIZE);
    const startedMs = performance.now();
    const expiredBefore = await store.countExpired();
    if (expiredBefore === null) {
      const report: PurgeReport = { store: store.kind, deleted: 0, expiredBefore: null, durationMs: 0, note: REDIS_PURGE_NOTE };
      return { exitCode: ExitCode.ok, json: report, text: `Deleted 0 sessions: ${REDIS_PURGE_NOTE}.` };
    }
    // Nothing counted, nothing to show: a cron job's log stays quiet.
    const progress = expiredBefore > 0 ? createProgress(io.stderr, { label: 'purged', total: expiredBefore, plainLines: !json }) : undefined;
    const deleted = await store.purge(batchSize, (deletedSoFar) => progress?.update(deletedSoFar));
    progress?.finish(deleted);
    const durationMs = Math.round(performance.now() - startedMs);
    const report: PurgeReport = { store: store.kind, deleted, expiredBefore, durationMs };
    return { exitCode: ExitCode.ok, json: report, text: `Deleted ${deleted} expired session${deleted === 1 ? '' : 's'} from ${store.where} in ${durationMs} ms.` };
  },
};

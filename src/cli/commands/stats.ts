import type { Command } from '../command.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { formatBytes, table } from '../output.js';

/** `sessionkit stats`: counts, sessions per owner, sizes. */
export const stats: Command = {
  options: [],
  checkArguments(positionals) {
    if (positionals.length > 0) throw new CliError(ExitCode.usage, `stats takes no arguments, got ${JSON.stringify(positionals[0])}`);
  },
  async run({ store }) {
    const report = await store.stats();
    const rows: [string, string][] = [
      ['live sessions', String(report.live)],
      ['expired, not yet purged', report.expired === null ? 'none kept' : String(report.expired)],
    ];
    const { owners } = report;
    if (owners !== null) {
      rows.push(['owners', String(owners.owners)]);
      rows.push(['live sessions with an owner', String(owners.sessionsWithOwner)]);
      rows.push(['live sessions without', String(owners.sessionsWithoutOwner)]);
      if (owners.owners > 0) rows.push(['sessions per owner', `p50 ${owners.p50}  p90 ${owners.p90}  p99 ${owners.p99}  max ${owners.max}`]);
    }
    for (const [name, bytes] of Object.entries(report.sizeBytes)) rows.push([`size: ${name}`, formatBytes(bytes)]);
    const notes = report.notes.map((note) => `note: ${note}`);
    return { exitCode: ExitCode.ok, json: report, text: [store.where, table(rows), ...notes].join('\n') };
  },
};

import { digestKey } from '../../core/keys.js';
import { storedMetadata } from '../../http/envelope.js';
import type { Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatSeconds, printable, table } from '../output.js';
import type { InspectReport } from '../store.js';
import { checkKeyArgument, readKey } from './key-argument.js';

/** The metadata a typed session's `value` records, as report fields (ISO time); none for any other value. */
export function metadataFields(value: string | null): Pick<InspectReport, 'lastSeenAt' | 'userAgent' | 'clientAddress'> {
  const { lastSeenAt, userAgent, clientAddress } = storedMetadata(value);
  return {
    ...(lastSeenAt === undefined ? {} : { lastSeenAt: lastSeenAt.toISOString() }),
    ...(userAgent === undefined ? {} : { userAgent }),
    ...(clientAddress === undefined ? {} : { clientAddress }),
  };
}

/** The metadata's rows of a human report, each only when recorded. */
export function metadataRows(fields: Pick<InspectReport, 'lastSeenAt' | 'userAgent' | 'clientAddress'>): [string, string][] {
  const rows: [string, string][] = [];
  if (fields.lastSeenAt !== undefined) rows.push(['last seen at', fields.lastSeenAt]);
  if (fields.userAgent !== undefined) rows.push(['user agent', printable(fields.userAgent)]);
  if (fields.clientAddress !== undefined) rows.push(['address', fields.clientAddress]);
  return rows;
}

/** `sessionkit inspect KEY`: the session's state as `get` sees it, plus its owner where kept. */
export const inspect: Command = {
  options: [],
  checkArguments(positionals) {
    checkKeyArgument('inspect', positionals);
  },
  async run({ store, positionals, io }) {
    const { key, note } = await readKey(positionals[0]!, io);
    const result = await store.backend.get(key);
    const report: InspectReport = { store: store.kind, keyDigest: digestKey(key), status: result.ok ? 'Set' : result.error };
    if (note !== undefined) report.note = note;
    if (result.ok) {
      report.value = result.value;
      report.periodSeconds = result.period;
      Object.assign(report, metadataFields(result.value));
    }
    if (report.status !== 'NotFound') {
      const extra = await store.ownerOf(key);
      if (extra !== undefined) Object.assign(report, extra);
    }
    const rows: [string, string][] = [['status', report.status]];
    if (report.value !== undefined) rows.push(['value', printable(report.value)]);
    if (report.periodSeconds !== undefined) rows.push(['expires in', `${report.periodSeconds} s (${formatSeconds(report.periodSeconds)})`]);
    if (report.owner !== undefined) rows.push(['owner', report.owner === null ? '(none)' : printable(report.owner)]);
    else if (report.ownerDigest !== undefined) rows.push(['owner', `digest ${report.ownerDigest} (the value does not name the owner)`]);
    if (report.createdAt !== undefined && report.createdAt !== null) rows.push(['created at', report.createdAt]);
    rows.push(...metadataRows(report));
    const text = `Session with key digest ${report.keyDigest} in ${store.where}\n${table(rows)}${note === undefined ? '' : `\nnote: ${note}`}`;
    return { exitCode: report.status === 'NotFound' ? ExitCode.notFound : ExitCode.ok, json: report, text };
  },
};

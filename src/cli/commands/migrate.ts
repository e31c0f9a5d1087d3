import type { Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { CliError } from '../exit-codes.js';

/** `sessionkit migrate`: creates or upgrades the table (PostgreSQL); nothing to do on Redis. */
export const migrate: Command = {
  options: [],
  fillsStore: true,
  checkArguments(positionals) {
    if (positionals.length > 0) throw new CliError(ExitCode.usage, `migrate takes no arguments, got ${JSON.stringify(positionals[0])}`);
  },
  async run({ store }) {
    const report = await store.migrate();
    let text: string;
    switch (report.action) {
      case 'created':
        text = `Created ${store.where}.`;
        break;
      case 'upgraded':
        text = `Upgraded ${store.where}: added ${report.added.join(', ')}.`;
        break;
      case 'unchanged':
        text = `${store.where} is up to date.`;
        break;
      case 'none':
        text = `${store.where}: ${report.note ?? 'nothing to migrate'}.`;
        break;
    }
    return { exitCode: ExitCode.ok, json: report, text };
  },
};

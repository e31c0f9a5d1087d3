// `npm run bench -- quick`: the HTTP comparison of bench/http.ts (the Express
// counter app, bare and with every session layer) in under 2 minutes: one
// round of 2 s per app, the ratios printed, nothing saved. For a developer
// before a change lands; `npm run bench -- http` is the full run behind BENCHMARKS.md.
import { run as runHttp } from './http.js';

export async function run(args: string[]): Promise<void> {
  await runHttp(['--quick', ...args]);
}

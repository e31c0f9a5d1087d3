// `node --import tsx --import ./bench/lib/use-compiled.mjs ...`: loads src/ from dist/ (see compiled-hooks.mjs).
// Child processes of a benchmark get the same flags through process.execArgv.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

if (!existsSync(new URL('../../dist/index.js', import.meta.url))) {
  throw new Error('the benchmarks run the compiled package: npm run build first (npm run bench does it)');
}
register('./compiled-hooks.mjs', import.meta.url);

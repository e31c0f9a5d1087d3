// Module resolve hook for the benchmarks: every module of src/ is loaded from
// its compiled twin in dist/ instead, so the benchmarks measure the code that
// `import 'sessionkit'` loads. (Through tsx, the sources carry its runtime
// helpers, such as a defineProperty call per function created, which cost
// sessionkit 10-20 % of its CPU per HTTP request.) Plain JavaScript: hooks run
// in a thread of their own, before any TypeScript loader.
import { pathToFileURL } from 'node:url';
const src = new URL('../../src/', import.meta.url).href;
// SESSIONKIT_BENCH_DIST: another checkout's dist/ (`npm run bench -- http --baseline <checkout>`), for a build-to-build comparison.
const dist = process.env.SESSIONKIT_BENCH_DIST ? pathToFileURL(`${process.env.SESSIONKIT_BENCH_DIST}/`).href : new URL('../../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(src) || !resolved.url.endsWith('.ts')) return resolved;
  return { ...resolved, url: `${dist}${resolved.url.slice(src.length, -'.ts'.length)}.js`, format: 'module' };
}

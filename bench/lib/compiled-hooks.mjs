// Module resolve hook for the benchmarks: every module of src/ is loaded from
// its compiled twin in dist/ instead, so the benchmarks measure the code that
// `import 'sessionkit'` loads. (Through tsx, the sources carry its runtime
// helpers, such as a defineProperty call per function created, which cost
// sessionkit 10-20 % of its CPU per HTTP request.) Plain JavaScript: hooks run
// in a thread of their own, before any TypeScript loader.
const src = new URL('../../src/', import.meta.url).href;
const dist = new URL('../../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(src) || !resolved.url.endsWith('.ts')) return resolved;
  return { ...resolved, url: `${dist}${resolved.url.slice(src.length, -'.ts'.length)}.js`, format: 'module' };
}

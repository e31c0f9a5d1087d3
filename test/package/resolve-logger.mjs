// A module-resolution hook for the entry-point test: prints every bare specifier resolved, one per line on stderr.
export async function resolve(specifier, context, nextResolve) {
  if (!specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:') && !specifier.startsWith('file:')) {
    process.stderr.write(`resolved ${specifier}\n`);
  }
  return nextResolve(specifier, context);
}

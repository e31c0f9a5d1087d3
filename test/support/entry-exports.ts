import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A public entry point: its import name, its source file, and the names it exports, values and types apart. */
export interface EntryExports {
  name: string;
  source: string;
  values: string[];
  types: string[];
}

/** Every subpath of package.json `exports` (but `./package.json`) with the source file tsconfig.json maps it to. */
export function entryPoints(): { name: string; source: string }[] {
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, unknown> };
  const tsconfig = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } };
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => {
      const name = subpath === '.' ? 'sessionkit' : `sessionkit/${subpath.slice(2)}`;
      const mapped = tsconfig.compilerOptions.paths[name]?.[0];
      if (mapped === undefined) throw new Error(`${name} is in package.json exports but not in tsconfig.json paths`);
      return { name, source: `${root}${mapped.replace(/^\.\//, '')}` };
    });
}

/** The names each entry point exports as the compiler sees them: a value (function, class, constant) or a type only. */
export function entryExports(): EntryExports[] {
  const entries = entryPoints();
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2023, strict: true, skipLibCheck: true, noEmit: true, types: ['node'] };
  const program = ts.createProgram(entries.map((entry) => entry.source), options);
  const checker = program.getTypeChecker();
  return entries.map(({ name, source }) => {
    const file = program.getSourceFile(source);
    const moduleSymbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    if (moduleSymbol === undefined) throw new Error(`${source} has no exports`);
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    return { name, source, values: values.sort(), types: types.sort() };
  });
}

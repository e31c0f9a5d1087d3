import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The `sessionkit/*` names as tsconfig.json maps them to src/ (so a new entry point needs no change here). */
function packagePaths(root: string): ts.MapLike<string[]> {
  const { config } = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  return (config as { compilerOptions: { paths: ts.MapLike<string[]> } }).compilerOptions.paths;
}

/**
 * Type-checks each snippet as its own module against the sources
 * (`sessionkit/*` mapped to src/, as the package's entry points are), and
 * returns the diagnostics of the snippets only, one line each: empty when all
 * compile.
 */
export function compileSnippets(root: string, snippets: ReadonlyArray<{ name: string; code: string }>): string[] {
  const files = new Map<string, string>();
  for (const { name, code } of snippets) files.set(path.join(root, `${name}.ts`), `export {};\n${code}`);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2024.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: true,
    baseUrl: root,
    paths: packagePaths(root),
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => files.get(path.resolve(name)) ?? readFile(name);
  host.fileExists = (name) => files.has(path.resolve(name)) || fileExists(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError, create) => {
    const text = files.get(path.resolve(name));
    return text === undefined ? getSourceFile(name, language, onError, create) : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.has(path.resolve(d.file.fileName)))
    .map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

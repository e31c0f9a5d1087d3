import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/http.md'), 'utf8');
const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Names the snippets use without defining, each with a declaration used only when the snippet lacks its own. */
const ambient: Array<[name: string, declaration: string]> = [
  ['Data', 'interface Data { user?: string; count?: number }'],
  ['backend', "declare const backend: import('sessionkit').MemoryBackend;"],
  ['req', "declare const req: import('node:http').IncomingMessage;"],
  ['res', "declare const res: import('node:http').ServerResponse;"],
  ['Session', "import type { Session } from 'sessionkit/http';"],
];

const definesOrImports = (source: string, name: string) =>
  new RegExp(`(?:interface|type|const|let|class|function)\\s+${name}\\b|import[^;]*\\b${name}\\b[^;]*from`).test(source);

/**
 * Type-checks every ```ts block of docs/http.md as its own module, against
 * the sources (`sessionkit/*` mapped to src/), so the documentation cannot
 * drift from the API.
 */
describe('docs/http.md', () => {
  it('has TypeScript snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
  });

  it('every snippet type-checks', () => {
    const files = new Map<string, string>();
    snippets.forEach((snippet, index) => {
      const preamble = ambient.filter(([name]) => !definesOrImports(snippet, name)).map(([, declaration]) => declaration);
      files.set(path.join(root, `docs-snippet-${index}.ts`), `${preamble.join('\n')}\nexport {};\n${snippet}`);
    });
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
      paths: {
        sessionkit: ['src/index.ts'],
        'sessionkit/http': ['src/http/index.ts'],
        'sessionkit/*': ['src/adapters/*/index.ts', 'src/backends/*/index.ts', 'src/*/index.ts'],
      },
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
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || files.has(path.resolve(d.file.fileName)))
      .map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
  }, 60_000);
});

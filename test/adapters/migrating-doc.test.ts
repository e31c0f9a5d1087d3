import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { RESERVED_SESSION_NAMES } from '../../src/adapters/express/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/migrating.md'), 'utf8');
const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** Type-checks every ```ts block of docs/migrating.md as its own module, against the sources. */
describe('docs/migrating.md', () => {
  it('has the snippets of the three roads, Passport and Fastify', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
  });

  it('lists exactly the reserved names of req.session', () => {
    const listed = doc.match(/^`id`, `cookie`[^]*?are reserved/m)?.[0] ?? '';
    expect([...listed.matchAll(/`(\w+)`/g)].map((match) => match[1]).sort()).toEqual([...RESERVED_SESSION_NAMES].sort());
  });

  it('every snippet type-checks', () => {
    const files = new Map<string, string>();
    snippets.forEach((snippet, index) => files.set(path.join(root, `migrating-snippet-${index}.ts`), `export {};\n${snippet}`));
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

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenLinks } from '../support/markdown-links.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// What a user does: `npm pack` here, then `npm install <tarball> pg` in an app of their own, outside the repository.
// --prefer-offline takes pg from npm's cache, so the check works without the registry once pg has been installed here.
let scratch: string;
let app: string;
let tarball: string;
let installLog: string;
let express4App: string;
let express4InstallLog: string;
/** The version this repository installed, so the scratch apps take it from npm's cache. */
const installedVersion = (name: string) => (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The smoke test of one module system: the memory backend behind the node:http adapter, and one real request pair. */
const smoke = (load: (name: string) => string) => `
${load('sessionkit')}
${load('sessionkit/node')}
${load('node:http')}
const backend = new sessionkit.MemoryBackend();
const server = http.createServer(node.withSession(backend, {}, async (_req, res, session) => {
  const { count } = await session.update((data) => ({ count: (data.count ?? 0) + 1 }));
  res.end(String(count));
}));
server.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  const first = await fetch(url);
  const cookie = first.headers.get('set-cookie').split(';')[0];
  const second = await fetch(url, { headers: { cookie } });
  console.log(JSON.stringify({ first: await first.text(), second: await second.text(), cookie: cookie.split('=')[0] }));
  server.close();
  await backend.close();
});
`;

describe('the packed package, installed in a fresh app', () => {
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'sessionkit-pack-'));
    app = path.join(scratch, 'app');
    // prepack builds dist/ first, exactly as `npm publish` would.
    const { stdout } = await run(npm, ['pack', '--pack-destination', scratch, '--json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    tarball = path.join(scratch, (JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>)[0]!.filename);
    express4App = path.join(scratch, 'express4-app');
    for (const dir of [app, express4App]) {
      await run('mkdir', ['-p', dir]);
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), version: '1.0.0', private: true }));
    }
    const flags = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn'];
    // An app with pg only (and its types): no other driver, so the published types must not need one.
    const types = [`@types/pg@${installedVersion('@types/pg')}`, `@types/node@${installedVersion('@types/node')}`];
    // An Express 4 app: no --legacy-peer-deps, so the peer range must admit it.
    const [install, express4Install] = await Promise.all([
      run(npm, [...flags, tarball, 'pg', ...types], { cwd: app }),
      run(npm, [...flags, tarball, `express@${installedVersion('express4')}`, `@types/express@${installedVersion('@types/express4')}`, ...types.slice(1)], { cwd: express4App }).catch((error: { stdout: string; stderr: string }) => error),
    ]);
    installLog = install.stdout + install.stderr;
    express4InstallLog = express4Install.stdout + express4Install.stderr;
  }, 240_000);

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs with no warning (no EBADENGINE on this Node)', () => {
    expect(installLog).not.toMatch(/EBADENGINE|npm warn/i);
    expect(existsSync(path.join(app, 'node_modules/sessionkit/dist/index.js'))).toBe(true);
  });

  it('ships LICENSE and the docs, and no source maps', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.split('\n');
    for (const file of ['LICENSE', 'README.md', 'SECURITY.md', 'docs/cli.md', 'docs/http.md', 'docs/redis.md', 'docs/decisions.md']) {
      expect(files).toContain(`package/${file}`);
    }
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('package/src/') || file.includes('.test.'))).toEqual([]);
  });

  it('every relative link of the shipped documents resolves inside the package (as on the registry page)', () => {
    const installed = path.join(app, 'node_modules/sessionkit');
    const documents = ['README.md', 'SECURITY.md', ...readdirSync(path.join(installed, 'docs')).map((name) => `docs/${name}`)];
    expect(documents.flatMap((document) => brokenLinks(installed, document).map((broken) => `${document}: ${broken}`))).toEqual([]);
  });

  it('works from CommonJS (require)', async () => {
    writeFileSync(path.join(app, 'smoke.cjs'), smoke((name) => `const ${name.split(/[/:]/).pop()} = require('${name}');`));
    const { stdout, stderr } = await run(process.execPath, ['smoke.cjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ first: '1', second: '2', cookie: 'sid' });
    expect(stderr).toBe('');
  });

  it('works from ES modules (import)', async () => {
    writeFileSync(path.join(app, 'smoke.mjs'), smoke((name) => `import * as ${name.split(/[/:]/).pop()} from '${name}';`));
    const { stdout, stderr } = await run(process.execPath, ['smoke.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ first: '1', second: '2', cookie: 'sid' });
    expect(stderr).toBe('');
  });

  it('has types for CommonJS and ES module consumers', async () => {
    const consumer = `import { MemoryBackend } from 'sessionkit';\nimport { withSession } from 'sessionkit/node';\nimport { connect } from 'sessionkit/postgres';\nconst backend: MemoryBackend = new MemoryBackend();\nexport const handler = withSession<{ count?: number }>(backend, {}, (_req, res, session) => { res.end(String(session.data.count)); });\nexport const open: typeof connect = connect;\n`;
    writeFileSync(path.join(app, 'consumer.cts'), consumer);
    writeFileSync(path.join(app, 'consumer.mts'), consumer);
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const types = path.join(root, 'node_modules/@types');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--skipLibCheck', '--typeRoots', types, '--types', 'node'];
    const result = await run(process.execPath, [tsc, ...args, 'consumer.cts', 'consumer.mts'], { cwd: app }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  }, 60_000);

  it('an app with only pg installed type-checks with skipLibCheck: false, and a connection string is not a driver', async () => {
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', types: ['node'] } }),
    );
    const consumer = `import pg from 'pg';\nimport { MemoryBackend } from 'sessionkit';\nimport { PostgresBackend, connect, type PostgresDatabase } from 'sessionkit/postgres';\nimport { withSession } from 'sessionkit/node';\nimport { SessionEngine } from 'sessionkit/http';\nconst pool = new pg.Pool({ connectionString: 'postgresql://127.0.0.1/app' });\nexport const backend = new PostgresBackend(pool, { table: 'sessions' });\nexport const client: PostgresDatabase = new pg.Client();\nexport const opened: Promise<PostgresBackend> = connect({ conninfo: 'postgresql://127.0.0.1/app' });\nexport const handler = withSession(new MemoryBackend(), {}, (_req, res) => { res.end(); });\nexport const engine = new SessionEngine(backend, {});\n`;
    writeFileSync(path.join(app, 'pg-only.mts'), consumer);
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
    writeFileSync(path.join(app, 'wrong.mts'), `import { PostgresBackend } from 'sessionkit/postgres';\nexport const backend = new PostgresBackend('postgresql://127.0.0.1/app');\n`);
    const wrong = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout: string }) => error);
    rmSync(path.join(app, 'wrong.mts'));
    expect(wrong.stdout).toMatch(/^wrong\.mts\(2,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'PostgresDatabase'/m);
    expect(wrong.stdout.split('\n').filter((line) => /error TS/.test(line))).toHaveLength(1);
  }, 120_000);

  it('installs into an Express 4 app without flags, and serves a session there', async () => {
    expect(express4InstallLog).not.toMatch(/ERESOLVE|EBADENGINE|npm warn|npm error/i);
    expect((JSON.parse(readFileSync(path.join(express4App, 'node_modules/express/package.json'), 'utf8')) as { version: string }).version).toMatch(/^4\./);
    const smoke4 = `
const express = require('express');
const { MemoryBackend } = require('sessionkit');
const { sessionMiddleware } = require('sessionkit/express');
const backend = new MemoryBackend();
const app = express();
app.use(sessionMiddleware(backend));
app.get('/', (req, res) => {
  req.session.count = (req.session.count || 0) + 1;
  res.send(String(req.session.count));
});
const server = app.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  const first = await fetch(url);
  const cookie = first.headers.get('set-cookie').split(';')[0];
  const second = await fetch(url, { headers: { cookie } });
  console.log(JSON.stringify({ first: await first.text(), second: await second.text() }));
  server.close();
  await backend.close();
});
`;
    writeFileSync(path.join(express4App, 'smoke.cjs'), smoke4);
    const { stdout, stderr } = await run(process.execPath, ['smoke.cjs'], { cwd: express4App });
    expect(JSON.parse(stdout)).toEqual({ first: '1', second: '2' });
    expect(stderr).toBe('');
  });

  it("type-checks an Express 4 app against Express 4's types, with skipLibCheck: false", async () => {
    writeFileSync(
      path.join(express4App, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', types: ['node'] } }),
    );
    writeFileSync(
      path.join(express4App, 'app.mts'),
      `import express from 'express';\nimport { MemoryBackend } from 'sessionkit';\nimport { getSession, sessionMiddleware, sessionView } from 'sessionkit/express';\nconst app = express();\napp.use(sessionMiddleware(new MemoryBackend(), { fromExpressSession: { secret: 'old secret' } }));\napp.get('/', (req, res, next) => {\n  sessionView(req).visits = 1;\n  getSession<{ count: number }>(req).update((d) => ({ ...d, count: (d.count ?? 0) + 1 })).then(({ count }) => res.send(String(count)), next);\n});\n`,
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: express4App }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  }, 120_000);

  it('npx sessionkit --help points at docs that exist in the installed package', async () => {
    const { stdout } = await run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--offline', 'sessionkit', '--help'], { cwd: app });
    const docs = /Documentation: (\S+)/.exec(stdout)?.[1];
    expect(docs).toBe(path.join(app, 'node_modules/sessionkit/docs/cli.md'));
    expect(existsSync(docs!)).toBe(true);
    expect(readdirSync(path.dirname(docs!))).toContain('http.md');
  });
});

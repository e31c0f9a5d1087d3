import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
    await run('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true }));
    const install = await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn', tarball, 'pg'], { cwd: app });
    installLog = install.stdout + install.stderr;
  }, 180_000);

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

  it('npx sessionkit --help points at docs that exist in the installed package', async () => {
    const { stdout } = await run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--offline', 'sessionkit', '--help'], { cwd: app });
    const docs = /Documentation: (\S+)/.exec(stdout)?.[1];
    expect(docs).toBe(path.join(app, 'node_modules/sessionkit/docs/cli.md'));
    expect(existsSync(docs!)).toBe(true);
    expect(readdirSync(path.dirname(docs!))).toContain('http.md');
  });
});

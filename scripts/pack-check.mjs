#!/usr/bin/env node
// Packaging check: packs every public package as `pnpm publish` would, lints each tarball with
// publint and @arethetypeswrong/cli, then installs them all in a scratch npm project outside the
// workspace and uses them as a consumer does (ESM import, CommonJS require, TypeScript with
// nodenext resolution). Workspace tests import through pnpm symlinks, so they cannot see a broken
// `exports` map, a file missing from `files`, an undeclared dependency, or a CJS build that throws
// on require. Run after install and build (see scripts/README.md):
//   node scripts/pack-check.mjs        (exits 1 on any problem)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'queue-pack-check-')));
const app = path.join(tmp, 'app');
const t0 = Date.now(); // the log lines show elapsed seconds, to see which phase a slow CI run spends on
const log = (msg) => console.log(`== [${Math.round((Date.now() - t0) / 1000)}s] ${msg}`);
const DB = 'postgres://user:pass@127.0.0.1:1/none'; // never connected to: no check needs a database
const migrations = fs
  .readdirSync(path.join(root, 'packages/core/migrations'))
  .filter((f) => f.endsWith('.sql'));

// What each entry point must export as a function or class. Entry points not listed only need to
// load and export something, so a new package or subpath is checked without editing this file.
const expected = {
  '@queue/core': { '.': ['Queue', 'Worker', 'defineTasks', 'task', 'QueueError', 'loadMigrations'] },
  '@queue/express': { '.': ['createQueue', 'ExpressQueue', 'transaction', 'withTransaction'] },
  '@queue/fastify': { '.': ['fastifyQueue', 'default', 'withTransaction', 'SchemaNotMigratedError'] },
  '@queue/nest': { '.': ['QueueModule', 'Processor', 'Task', 'InjectQueue', 'InjectWorker'] },
  '@queue/dashboard': { '.': ['createDashboard', 'Dashboard'], './express': ['queueDashboard'] },
  '@queue/cli': { '.': ['run'] },
  '@queue/metrics': { '.': ['createQueueMetrics', 'QueueMetrics', 'metricsEndpoint', 'MetricsConfigError'] },
  '@queue/testing': {
    '.': ['queueTesting', 'drain', 'inline', 'withRollback', 'expectEnqueued', 'expectNotEnqueued'],
  },
  '@queue/otel': { '.': ['queueInstrumentation', 'fromMeta', 'toStored'] },
};
// Typed usage, compiled as .mts and as .cts. The @ts-expect-error lines fail the check if the
// published types degrade to `any` instead of resolving to the real declarations.
const typeUse = {
  '@queue/core': `import { Queue, QueueError, defineTasks, task } from '@queue/core';
const tasks = defineTasks({ email: task({ handler: async (p: { to: string }) => p.to }) });
export const queue = new Queue({ connectionString: '${DB}', tasks });
export const ok = () => queue.enqueue('email', { to: 'a@b.c' });
// @ts-expect-error unknown task name
export const bad = () => queue.enqueue('nope', {});
export const isQueueError = (e: unknown): boolean => e instanceof QueueError;`,
  '@queue/express': `import express from 'express';
import { createQueue, transaction } from '@queue/express';
const app = express();
export const queue = createQueue(app, { connectionString: '${DB}' });
app.post('/', transaction((req, res) => { void req.queue.enqueue('t', {}, { client: req.tx }); res.end(); }));
// @ts-expect-error req.tx is typed only in the handler transaction(handler) runs
app.post('/plain', (req, res) => { void req.tx; res.end(); });
// @ts-expect-error createQueue needs the app
createQueue({ connectionString: '${DB}' });`,
  '@queue/fastify': `import { fastify } from 'fastify';
import fastifyQueue from '@queue/fastify';
const app = fastify();
void app.register(fastifyQueue, { connectionString: '${DB}' });
export const enqueue = () => app.queue.enqueue('t', {});`,
  '@queue/otel': `import { Queue } from '@queue/core';
import { queueInstrumentation } from '@queue/otel';
export const queue = new Queue({ connectionString: '${DB}', instrumentation: queueInstrumentation() });
// @ts-expect-error parent is 'enqueue' or 'none'
queueInstrumentation({ parent: 'request' });`,
  '@queue/nest': `import { QueueModule } from '@queue/nest';
export const dynamicModule = QueueModule.forRoot({ connectionString: '${DB}', worker: false });
// @ts-expect-error options are typed
QueueModule.forRoot({ worker: 'yes' });`,
  '@queue/metrics': `import { QueueAdmin } from '@queue/core';
import { createQueueMetrics, metricsEndpoint } from '@queue/metrics';
import { Registry } from 'prom-client';
const queue = new QueueAdmin({ connectionString: '${DB}' });
export const metrics = createQueueMetrics({ queue, registry: new Registry() });
export const mount = metricsEndpoint({ basicAuth: { username: 'prometheus', password: 'secret' } });
// @ts-expect-error the prefix is a string
createQueueMetrics({ queue, prefix: 1 });`,
  '@queue/testing': `import { Queue, defineTasks } from '@queue/core';
import { queueTesting } from '@queue/testing';
const tasks = defineTasks({ email: async (p: { to: string }) => p.to });
const jobs = queueTesting(new Queue({ connectionString: '${DB}', tasks }));
export const ok = () => jobs.expectEnqueued('email', { to: 'a@b.c' }, { count: 1 });
// @ts-expect-error payload fields are typed
export const bad = () => jobs.expectEnqueued('email', { to: 1 });
// @ts-expect-error unknown task name
export const nope = () => jobs.expectNotEnqueued('nope');`,
};

// Runs a command; returns its output, or throws with the command and its output's tail.
function run(cmd, args, cwd, timeout = 180_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status === 0) return out;
  const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
  throw new Error(
    `\`${path.basename(cmd)} ${args.join(' ')}\` failed (${why}):\n${out.split('\n').slice(-60).join('\n')}`,
  );
}
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const slug = (name) => name.replace(/^@/, '').replace(/\//g, '-');
const walk = (dir, base = dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [path.relative(base, p).split(path.sep).join('/')];
  });
// Every file a package.json points at (string leaves of exports and bin, main, module, types):
// only to notice an unbuilt package; whether the tarball has them is publint's check.
const leaves = (v) => (typeof v === 'string' ? [v] : Object.values(v ?? {}).flatMap(leaves));
const targets = (pj) =>
  [...leaves(pj.exports), ...leaves(pj.bin), pj.main, pj.module, pj.types].filter(Boolean);
const subpaths = (pj) =>
  pj.exports && typeof pj.exports === 'object' && Object.keys(pj.exports)[0]?.startsWith('.')
    ? Object.keys(pj.exports).filter((k) => !k.includes('*') && !k.endsWith('.json'))
    : ['.'];
const deps = (pj) =>
  new Set(Object.keys({ ...pj.dependencies, ...pj.peerDependencies, ...pj.optionalDependencies }));
// Bare package names a file imports (static, dynamic, require, side effect), builtins left out.
// A specifier has no whitespace: a message string ending in "from '" is no import.
const bareImports = (code) =>
  [
    ...code.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']([^"'./\s][^"'\s]*)["']/gm,
    ),
  ]
    .map(([, s]) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]))
    .filter((n) => !n.startsWith('node:') && !builtinModules.includes(n));

const pkgs = fs
  .readdirSync(path.join(root, 'packages'))
  .map((d) => path.join(root, 'packages', d))
  .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
  .map((dir) => ({ dir, src: readJson(path.join(dir, 'package.json')), problems: [], ok: {} }))
  .filter((p) => p.src.private !== true);
// Each step ends ok (true), FAIL (false), or skipped (undefined) when an earlier step failed.
const fail = (p, step, msg) => {
  p.ok[step] = false;
  p.problems.push(`${step}: ${msg}`);
};
const workspaceVersion = (name) => {
  for (const d of [...pkgs.map((p) => p.dir), root]) {
    const f = path.join(d, 'node_modules', name, 'package.json');
    if (fs.existsSync(f)) return readJson(f).version;
  }
};

try {
  // Inside the workspace, Node would resolve from the workspace's node_modules and hide problems.
  if (!path.relative(root, tmp).startsWith('..')) throw new Error(`temp dir ${tmp} is inside the workspace`);
  // CI builds first; locally a dist may be cleaned or mid-rebuild, so build once when one is missing.
  const unbuilt = pkgs.filter((p) =>
    targets(p.src).some((t) => !t.includes('*') && !fs.existsSync(path.join(p.dir, t))),
  );
  if (unbuilt.length) {
    const names = unbuilt.map((p) => p.src.name);
    log(`building ${names.join(', ')}: files package.json points at are missing`);
    const filters = names.map((n) => `--filter=${n}`);
    try {
      run(
        'npx',
        ['-y', 'pnpm@10', 'exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'],
        root,
        6e5,
      );
    } catch (e) {
      // Carry on: publint then names each file the failed build left missing.
      console.error(`build failed:\n${e.message}`);
      process.exitCode = 1;
    }
  }

  log(`packing ${pkgs.length} public packages into ${tmp}`);
  for (const p of pkgs) {
    const dest = path.join(tmp, 'tarballs', slug(p.src.name));
    try {
      // pnpm, not npm: it rewrites the workspace: ranges, as `pnpm publish` does.
      run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', dest], p.dir);
      const [tgz, ...more] = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz'));
      if (!tgz || more.length) throw new Error(`expected one tarball in ${dest}`);
      p.tarball = path.join(dest, tgz);
      p.size = fs.statSync(p.tarball).size;
      p.ok.pack = true;
    } catch (e) {
      fail(p, 'pack', e.message);
    }
  }
  // The tarball as published: publint (exports, main, types and bin point at files in the
  // tarball, module formats and condition order match) and arethetypeswrong (each entry point's
  // types resolve, and as the same format as its JS, under node16 from ESM and from CJS, and
  // bundler). Profile node16: node10 resolution (moduleResolution "node") is not supported, and
  // the dashboard's subpath exports cannot resolve there. No rule is ignored. Their own types only:
  // no @types package is looked up on the registry.
  log('publint and attw on each tarball');
  for (const p of pkgs.filter((p) => p.ok.pack)) {
    try {
      const data = fs.readFileSync(p.tarball);
      const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      const { messages, pkg } = await publint({ pack: { tarball }, strict: true });
      p.pj = pkg; // the package.json as packed, workspace: ranges rewritten
      for (const m of messages)
        fail(p, 'lint', `publint ${m.code}: ${formatMessage(m, pkg, { color: false })}`);
    } catch (e) {
      fail(p, 'lint', `publint could not read the tarball: ${e.message}`);
    }
    try {
      const flags = ['--profile', 'node16', '--no-definitely-typed', '--no-emoji', '--no-color'];
      run(bin('attw'), [p.tarball, ...flags], tmp);
    } catch (e) {
      fail(p, 'lint', `attw: ${e.message}`);
    }
    p.ok.lint ??= true;
  }
  const packed = pkgs.filter((p) => p.pj);

  // One npm install of all tarballs and their peers (at the workspace's versions), so the @queue/*
  // ranges between them (peer ^0.1.0, not on npm) are met by the tarballs instead of the registry.
  const ours = new Set(packed.map((p) => p.pj.name));
  const extra = new Map([['@types/node', workspaceVersion('@types/node') ?? '20']]); // any TS consumer has it
  for (const p of packed)
    for (const [name, range] of Object.entries(p.pj.peerDependencies ?? {}))
      if (!ours.has(name) && !extra.has(name)) extra.set(name, workspaceVersion(name) ?? range);
  const install = (specs) =>
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], app, 600_000);
  fs.mkdirSync(app);
  run('npm', ['init', '-y'], app);
  const peers = [...extra].map(([n, v]) => `${n}@${v}`);
  log(`npm install in ${app}: ${packed.length} tarballs + ${peers.join(' ')}`);
  install([...packed.map((p) => p.tarball), ...peers]);
  // Proves npm took every @queue/* package from a tarball: a registry copy would hide the real one.
  for (const [where, e] of Object.entries(readJson(path.join(app, 'package-lock.json')).packages))
    if (where.includes('node_modules/@queue/') && !e.link && !String(e.resolved).startsWith('file:'))
      throw new Error(`npm resolved ${where} from ${e.resolved} instead of a local tarball`);

  // Declared dependencies, which neither linter checks. The scratch install is flat (and has every
  // peer), so an import of an undeclared package may still resolve there; users' installs throw.
  // Shipped JS may import only declared packages. A .d.ts may too, and when that package ships no
  // types (pg, express) its @types package must be declared as well, or TS consumers get TS7016
  // (with skipLibCheck, an API silently typed any).
  const shipsTypes = (name) => {
    const f = path.join(app, 'node_modules', name, 'package.json');
    const pj = fs.existsSync(f) ? readJson(f) : {};
    const index = fs.existsSync(path.join(path.dirname(f), 'index.d.ts'));
    return Boolean(pj.types || pj.typings || index || JSON.stringify(pj.exports ?? {}).includes('"types"'));
  };
  for (const p of packed) {
    const declared = deps(p.pj).add(p.pj.name);
    const dir = path.join(app, 'node_modules', p.pj.name); // the tarball's files, as npm installed them
    const files = walk(dir).filter((f) => !/^(dist\/assets|node_modules)\//.test(f));
    const imports = (re) =>
      new Set(
        files
          .filter((f) => re.test(f))
          .flatMap((f) => bareImports(fs.readFileSync(path.join(dir, f), 'utf8'))),
      );
    for (const n of imports(/(?<!\.d)\.[cm]?js$/))
      if (!declared.has(n)) fail(p, 'deps', `its JS imports '${n}', which package.json does not declare`);
    for (const n of imports(/\.d\.[cm]?ts$/)) {
      const types = `@types/${n.replace(/^@/, '').replace('/', '__')}`;
      if (!declared.has(n))
        fail(p, 'deps', `its .d.ts files import '${n}', which package.json does not declare`);
      else if (n !== p.pj.name && !shipsTypes(n) && !declared.has(types)) {
        fail(p, 'deps', `its .d.ts files import '${n}', which ships no types, and ${types} is not declared`);
      }
    }
    p.ok.deps ??= true;
  }

  // The consumer, as ESM and as CJS: loads each entry point from the scratch app's node_modules,
  // checks its exports, builds a Queue (never connected) and finds every migration from the
  // installed dist, which in the CJS build relies on tsup's import.meta.url shim.
  const body = `const [name, spec] = [process.argv[2], JSON.parse(process.argv[3])];
try { await load('reflect-metadata'); } catch {} // Nest apps load it first
for (const [sub, names] of Object.entries(spec)) {
  const id = sub === '.' ? name : name + sub.slice(1);
  if (!where(id).startsWith(process.cwd())) throw new Error(id + ' resolves outside the app: ' + where(id));
  const m = await load(id);
  if (!Object.keys(m).some((k) => k !== '__esModule')) throw new Error(id + ' exports nothing');
  for (const n of names)
    if (typeof m[n] !== 'function') throw new Error(id + ': ' + n + ' is ' + typeof m[n] + ', not a function or class');
  if ('QueueModule' in m && typeof m.QueueModule.forRoot !== 'function') throw new Error('no QueueModule.forRoot');
  if (id === '@queue/core') {
    const queue = new m.Queue({ connectionString: '${DB}', tasks: { t: () => {} } });
    if (typeof queue.pool?.query !== 'function') throw new Error('new Queue() has no pg pool');
    await queue.close();
    const found = (await m.loadMigrations()).length;
    if (found !== ${migrations.length}) throw new Error('loadMigrations() found ' + found + ' of the ${migrations.length} in packages/core/migrations (check "files")');
  }
}`;
  const main = `(async () => {\n${body}\n})().catch((e) => {\n  console.error(String(e?.stack ?? e).split('\\n').slice(0, 4).join('\\n'));\n  process.exit(1);\n});\n`;
  const esm = `import { fileURLToPath } from 'node:url';\nconst load = (id) => import(id);\nconst where = (id) => fileURLToPath(import.meta.resolve(id));\n`;
  fs.writeFileSync(path.join(app, 'check.mjs'), esm + main);
  const cjs = `const load = async (id) => require(id);\nconst where = (id) => require.resolve(id);\n`;
  fs.writeFileSync(path.join(app, 'check.cjs'), cjs + main);

  log('loading each entry point as ESM and as CJS');
  for (const p of packed) {
    const spec = Object.fromEntries(subpaths(p.pj).map((s) => [s, expected[p.pj.name]?.[s] ?? []]));
    for (const [step, file] of Object.entries({ esm: 'check.mjs', cjs: 'check.cjs' })) {
      try {
        run(process.execPath, [file, p.pj.name, JSON.stringify(spec)], app, 60_000);
        p.ok[step] = true;
      } catch (e) {
        fail(p, step, e.message);
      }
    }
  }

  // Types: every entry point plus the typed usage, as ESM (import condition, .d.ts) and as
  // CommonJS (require condition, .d.cts), the packages' own declarations checked too. One program
  // per format, holding all packages (fast, and how an app uses them together); not both formats
  // in one, as a program with both copies of a global augmentation (req.queue) reports duplicates.
  // Each error goes to the package whose file it is in.
  log('type-checking as .mts and .cts');
  for (const ext of ['mts', 'cts']) {
    const files = packed.map((p) => {
      const imports = subpaths(p.pj).map((s, i) => `import * as e${i} from '${p.pj.name}${s.slice(1)}';`);
      const file = `types-${slug(p.pj.name)}.${ext}`;
      fs.writeFileSync(path.join(app, file), `${imports.join('\n')}\n${typeUse[p.pj.name] ?? ''}\n`);
      return file;
    });
    const flags = ['--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict'];
    try {
      run(bin('tsc'), [...flags, '--skipLibCheck', 'false', ...files], app, 300_000);
    } catch (e) {
      const owner = (line) =>
        packed.find(
          (p) => line.startsWith(`types-${slug(p.pj.name)}.`) || line.includes(`node_modules/${p.pj.name}/`),
        );
      let last; // tsc continues an error on indented lines
      const lines = e.message.replaceAll(`${app}/`, '').split('\n').slice(1).filter(Boolean);
      if (!lines.length) for (const p of packed) fail(p, 'types', e.message); // tsc crashed or timed out
      for (const line of lines) {
        if (!/^\s/.test(line)) last = owner(line);
        for (const p of last ? [last] : packed)
          fail(p, 'types', `as ${ext === 'mts' ? 'ESM' : 'CommonJS'}: ${line}`);
      }
    }
  }
  for (const p of packed) p.ok.types ??= true;
} catch (e) {
  console.error(`\npack-check could not finish: ${e.message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

console.log('');
const cell = (v) => (v === true ? 'ok' : v === false ? 'FAIL' : '-');
for (const p of pkgs) {
  const size = p.size ? `${(p.size / 1024).toFixed(1)} kB` : '-';
  const cols = ['pack', 'lint', 'deps', 'esm', 'cjs', 'types'].map(
    (s) => `${s.toUpperCase()} ${cell(p.ok[s])}`,
  );
  console.log(`${p.src.name.padEnd(18)} ${p.src.version.padEnd(7)} ${size.padStart(9)}  ${cols.join('  ')}`);
}
const problems = pkgs.flatMap((p) => p.problems.map((m) => `\n${p.src.name} ${m}`));
if (problems.length) {
  console.error(`\nPACKAGING PROBLEMS (${problems.length}):${problems.join('')}`);
  process.exitCode = 1;
} else if (!process.exitCode)
  console.log('\nall public packages pack, lint clean, install and load as published');

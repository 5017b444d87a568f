// `npm run test:runtimes`: packs the library, installs the tarball into a scratch folder, and runs the
// conformance checks (conformance.mjs) on it in every runtime: this Node, Node 22 and 24, Bun and Deno.
// The other runtimes come from the npm registry (the `node`, `bun` and `deno` packages ship their
// binaries), installed on first use into .cache/runtimes/ (git-ignored), never as dependencies of the
// project. Prints one line per runtime, "node 22.23.3: 24 passed, 0 failed (Atomics.waitAsync)", with
// the failures' details before it; exits 1 on any failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const cache = resolve(root, '.cache/runtimes');
const here = import.meta.dirname;

/** name: [npm package to install, its binary, arguments before the entry file] */
const runtimes = {
  node20: [null, process.execPath, []],
  node22: ['node@22', 'node', []],
  node24: ['node@24', 'node', []],
  bun: ['bun', 'bun', []],
  deno: ['deno', 'deno', ['run', '--allow-all']],
};
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in runtimes)) {
    console.error(`unknown runtime ${name}: one of ${Object.keys(runtimes).join(', ')}`);
    process.exit(2);
  }
}

const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** The runtime's binary, installed into the cache from the npm registry if it is not there yet. */
function install(name) {
  const [spec, bin] = runtimes[name];
  if (spec === null) return bin;
  const dir = join(cache, name);
  const path = join(dir, 'node_modules', '.bin', bin);
  if (!existsSync(path)) {
    process.stdout.write(`installing ${spec} into ${dir} ... `);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true }));
    npm(['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', spec], dir);
    console.log('done');
  }
  return path;
}

if (!existsSync(resolve(root, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run npm run build first.');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'awaitable-event-runtimes-'));
let failed = 0;
try {
  const [{ filename }] = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], root));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'runtimes', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--offline', join(scratch, filename)], scratch);
  for (const file of ['conformance.mjs', 'worker.mjs', 'entry.mjs'])
    copyFileSync(join(here, file), join(scratch, file));

  for (const name of wanted.length > 0 ? wanted : Object.keys(runtimes)) {
    const binary = install(name);
    const run = spawnSync(binary, [...runtimes[name][2], 'entry.mjs'], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const line = run.stdout.trim().split('\n').at(-1);
    let report;
    try {
      report = JSON.parse(line);
    } catch {
      failed++;
      console.log(`${name}: did not finish (${run.error?.message ?? `exit ${run.status}, signal ${run.signal}`})`);
      console.log(`${run.stdout}${run.stderr}`.replace(/^/gm, '    '));
      continue;
    }
    const bad = report.results.filter((r) => !r.ok);
    for (const r of bad) console.log(`    ✖ ${report.runtime}: ${r.name}\n${r.error.replace(/^/gm, '        ')}`);
    failed += bad.length;
    const passed = report.results.length - bad.length;
    console.log(`${report.runtime}: ${passed} passed, ${bad.length} failed (${report.path})`);
    if (run.status !== 0 && bad.length === 0) {
      failed++;
      console.log(`    ✖ ${report.runtime} exited with ${run.status}:\n${run.stderr.replace(/^/gm, '        ')}`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed === 0 ? 0 : 1);

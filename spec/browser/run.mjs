// The browser suite's driver: serves the suite from 127.0.0.1 with COOP/COEP headers (so the page is
// cross-origin isolated and has SharedArrayBuffer) and opens it in each engine named on the command line
// (engines.mjs: chromium, firefox, firefox-esr-140, webkit; `all` for every one; Chromium alone by
// default, as npm test runs it, which skips the suite when there is no Chromium: spec/skip.mjs). Lists each
// engine's tests, then one line per engine with its counts and the path SharedEvent.wait() took there.
// Exits 1 on any failure.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { resultsDir, skip } from '../skip.mjs';
import { chromiumPath, engines } from './engines.mjs';

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const names = args.includes('all') ? Object.keys(engines) : args.length > 0 ? args : ['chromium'];
// As npm test runs it (no engine named): without a Chromium on this machine the suite does not run, and says
// so; named on the command line, a missing engine is an error.
if (args.length === 0 && !existsSync(chromiumPath())) {
  skip(
    'browser',
    `no Chromium at ${chromiumPath()}`,
    "install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary",
  );
}
for (const name of names) {
  if (!(name in engines)) {
    console.error(`unknown engine ${name}: one of ${Object.keys(engines).join(', ')}, or all`);
    process.exit(2);
  }
}
if (!existsSync(resolve(root, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run npm run build first.');
  process.exit(1);
}

const files = {
  '/': ['spec/browser/page.html', 'text/html'],
  '/page.js': ['spec/browser/page.js', 'text/javascript'],
  '/worker.js': ['spec/browser/worker.js', 'text/javascript'],
  '/lock.js': ['spec/browser/lock.js', 'text/javascript'],
  '/lock-layout.js': ['spec/browser/lock-layout.js', 'text/javascript'],
  '/lock-worker.js': ['spec/browser/lock-worker.js', 'text/javascript'],
  '/replies.js': ['spec/browser/replies.js', 'text/javascript'],
  '/posting.js': ['spec/browser/posting.js', 'text/javascript'],
  '/posting-worker.js': ['spec/browser/posting-worker.js', 'text/javascript'],
  '/barrier.js': ['spec/browser/barrier.js', 'text/javascript'],
  '/barrier-worker.js': ['spec/browser/barrier-worker.js', 'text/javascript'],
  '/semaphore.js': ['spec/browser/semaphore.js', 'text/javascript'],
  '/semaphore-worker.js': ['spec/browser/semaphore-worker.js', 'text/javascript'],
  '/dist/index.js': ['dist/index.js', 'text/javascript'],
  '/dist/shared.js': ['dist/shared.js', 'text/javascript'], // what the core entry shares with the Redis one
};
const server = createServer(async (req, res) => {
  const file = files[new URL(req.url, 'http://x').pathname];
  if (file === undefined) return res.writeHead(404).end();
  res.writeHead(200, {
    'Content-Type': file[1],
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cache-Control': 'no-store',
  });
  res.end(await readFile(resolve(root, file[0])));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

/**
 * One engine's run. WebKitGTK's JavaScriptCore now and then loses an `Atomics.waitAsync` wake-up (the
 * notify counts the waiter as woken, its promise never settles: plain Atomics code shows it, see
 * docs/threads.md), and a page that waits on it never reports. There, and only for a page that never
 * reported, the suite runs once more, saying so: a page that hangs twice fails.
 */
async function runEngine(name) {
  try {
    return await engines[name](url);
  } catch (error) {
    if (name !== 'webkit' || !/never reported/.test(String(error))) throw error;
    console.log(
      `\n  ${name}: ${error.message}; running it once more (a lost Atomics.waitAsync wake-up of JavaScriptCore)`,
    );
    return engines[name](url);
  }
}

let failed = 0;
let passed = 0;
const lines = [];
for (const name of names) {
  let counts = { passed: 0, failed: 0 };
  try {
    const { version, path, results, errors } = await runEngine(name);
    console.log(
      `\n  ${version}: SharedEvent, SharedLock, SharedCondition, SharedSemaphore and SharedBarrier on a page and in Web Workers\n`,
    );
    for (const r of results) {
      counts[r.ok ? 'passed' : 'failed']++;
      const took = r.ms >= 1_000 ? ` (${(r.ms / 1_000).toFixed(1)} s)` : '';
      console.log(r.ok ? `    ✔ ${r.name}${took}` : `    ✖ ${r.name}${took}\n${r.error.replace(/^/gm, '        ')}`);
    }
    for (const e of errors) {
      counts.failed++;
      console.log(`    ✖ page error: ${e}`);
    }
    lines.push(`${version}: ${counts.passed} passed, ${counts.failed} failed (${path})`);
  } catch (error) {
    counts.failed++;
    console.log(`\n  ${name}: the browser suite did not finish: ${error.stack ?? error}`);
    lines.push(`${name}: ${counts.passed} passed, ${counts.failed} failed (did not finish)`);
  }
  passed += counts.passed;
  failed += counts.failed;
}
server.close();
mkdirSync(resultsDir(), { recursive: true });
writeFileSync(resolve(resultsDir(), 'browser.json'), JSON.stringify({ passed, failed }));
console.log(`\n${lines.join('\n')}`);
console.log(`\nbrowser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

// `npm run test:browser`: serves the browser suite from 127.0.0.1 with COOP/COEP headers (so the page is
// cross-origin isolated and has SharedArrayBuffer), opens it in headless Chromium through
// playwright-core, and reports each test and a closing "N passed, N failed" line. Exits 1 on any failure.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(
    `Chromium not found at ${executablePath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
  );
  process.exit(1);
}
if (!existsSync(resolve(root, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run npm run build first.');
  process.exit(1);
}

const files = {
  '/': ['spec/browser/page.html', 'text/html'],
  '/page.js': ['spec/browser/page.js', 'text/javascript'],
  '/worker.js': ['spec/browser/worker.js', 'text/javascript'],
  '/dist/index.js': ['dist/index.js', 'text/javascript'],
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

const browser = await chromium.launch({
  executablePath,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let failed = 0;
let passed = 0;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const handle = await page.waitForFunction(() => globalThis.__results, null, { timeout: 120_000 });
  const results = await handle.jsonValue();
  console.log(`\n  Chromium ${browser.version()}: SharedEvent on a page and in a Web Worker\n`);
  for (const r of results) {
    if (r.ok) passed++;
    else failed++;
    console.log(r.ok ? `    ✔ ${r.name}` : `    ✖ ${r.name}\n${r.error.replace(/^/gm, '        ')}`);
  }
  for (const e of errors) {
    failed++;
    console.log(`    ✖ page error: ${e}`);
  }
} catch (error) {
  failed++;
  console.log(`    ✖ the browser suite did not finish: ${error.message}`);
} finally {
  await browser.close();
  server.close();
}
mkdirSync(resolve(root, '.tmp/results'), { recursive: true });
writeFileSync(resolve(root, '.tmp/results/browser.json'), JSON.stringify({ passed, failed }));
console.log(`\nbrowser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

// The browser engines the suite runs in, each opening a page URL and handing back the page's report
// ({ results, path }) with the engine's version. Nothing is downloaded by a test tool and nothing is
// installed: the engines are Debian's packages, which .ci/run installs (a missing one is an error naming
// its package). Firefox ESR 140, an older version than the one installed, is fetched with apt-get download
// and unpacked into .cache/browsers/.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const cache = resolve(root, '.cache/browsers');
const REPORT_TIMEOUT = 300_000;

/** Where Chromium is: CHROMIUM_PATH, or Debian's. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Returns `path`; throws, naming the Debian `packages` that provide it, when it is missing. */
function debian(path, ...packages) {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: install Debian's ${packages.join(' ')} (apt-get install ${packages.join(' ')})`,
    );
  }
  return path;
}

/** Unpacks Debian's `firefox-esr` at `version` into the cache (no install: it sits beside the current one). */
function firefoxEsrAt(version) {
  const dir = join(cache, `firefox-esr-${version.split('.')[0]}`);
  const path = join(dir, 'usr/lib/firefox-esr/firefox-esr');
  if (!existsSync(path)) {
    console.log(`fetching firefox-esr=${version} (apt-get download) into ${dir} ...`);
    mkdirSync(cache, { recursive: true });
    // As root, apt's download sandbox user could not write here: download as root.
    const options = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const download = () =>
      execFileSync('apt-get', [...options, 'download', '-qq', `firefox-esr=${version}`], { cwd: cache });
    try {
      download();
    } catch {
      // The lists may predate the version (npm run test:browsers only, which CI runs: never npm test).
      const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
      execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length > 0 ? ['apt-get'] : []), 'update', '-qq'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      download();
    }
    const deb = readdirSync(cache).find((f) => f.startsWith('firefox-esr_') && f.endsWith('.deb'));
    execFileSync('dpkg', ['-x', join(cache, deb), dir]);
    rmSync(join(cache, deb));
  }
  return path;
}

/** Chromium through playwright-core (CDP). */
async function chromium(url) {
  const executablePath = debian(chromiumPath(), 'chromium');
  const { chromium } = await import('playwright-core');
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
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const handle = await page.waitForFunction(() => globalThis.__report, null, { timeout: REPORT_TIMEOUT });
    return { version: `Chromium ${browser.version()}`, ...(await handle.jsonValue()), errors };
  } finally {
    await browser.close();
  }
}

/** Firefox through puppeteer-core over WebDriver BiDi. */
async function firefox(url, executablePath) {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const handle = await page.waitForFunction(() => globalThis.__report, { timeout: REPORT_TIMEOUT });
    const version = (await browser.version()).replace(/^firefox\//i, 'Firefox ESR ');
    return { version, ...(await handle.jsonValue()), errors };
  } finally {
    await browser.close();
  }
}

const firefoxEsr = (url) => firefox(url, debian('/usr/bin/firefox-esr', 'firefox-esr'));
/** Firefox ESR 140, unpacked beside the installed one (whose libraries it uses): no Atomics.waitAsync. */
const firefoxEsr140 = (url) => {
  debian('/usr/bin/firefox-esr', 'firefox-esr');
  return firefox(url, firefoxEsrAt('140.12.0esr-1~deb12u1'));
};

const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/**
 * WebKit (WebKitGTK's MiniBrowser) through WebKitWebDriver, plain WebDriver over HTTP, under xvfb-run.
 * WebKitGTK's Linux builds leave SharedArrayBuffer off even on cross-origin isolated pages (WebKit bug
 * 268068): JSC_useSharedArrayBuffer=1 turns it on.
 */
async function webkit(url) {
  const driverPath = debian('/usr/bin/WebKitWebDriver', 'webkit2gtk-driver');
  debian('/usr/bin/xvfb-run', 'xvfb', 'xauth');
  // MiniBrowser comes with webkit2gtk-driver's libwebkit2gtk-4.1-0, under the multiarch library folder.
  const binary = readdirSync('/usr/lib')
    .map((dir) => join('/usr/lib', dir, 'webkit2gtk-4.1/MiniBrowser'))
    .find((path) => existsSync(path));
  if (binary === undefined) throw new Error('MiniBrowser not found under /usr/lib/*/webkit2gtk-4.1/');
  const port = await freePort();
  const driver = spawn('xvfb-run', ['-a', driverPath, `--port=${port}`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, JSC_useSharedArrayBuffer: '1' },
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  };
  let session;
  try {
    for (let tries = 0; ; tries++) {
      try {
        if ((await call('GET', '/status')).ready) break;
      } catch (error) {
        if (tries > 100) throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await call('POST', '/session', {
      capabilities: {
        alwaysMatch: { 'webkitgtk:browserOptions': { binary, args: ['--automation'] } },
      },
    });
    session = `/session/${created.sessionId}`;
    await call('POST', `${session}/url`, { url });
    const report = 'return globalThis.__report ? JSON.stringify(globalThis.__report) : null';
    for (const deadline = Date.now() + REPORT_TIMEOUT; ;) {
      const json = await call('POST', `${session}/execute/sync`, { script: report, args: [] });
      if (json !== null) {
        const version = `WebKitGTK ${created.capabilities.browserVersion}`;
        return { version, ...JSON.parse(json), errors: [] };
      }
      if (Date.now() > deadline) {
        const where = await call('POST', `${session}/execute/sync`, {
          script: 'return JSON.stringify(globalThis.__progress ?? null)',
          args: [],
        }).catch(() => 'null');
        const progress = JSON.parse(where);
        throw new Error(
          progress === null
            ? 'the page never reported'
            : `the page never reported: ${progress.done} tests done, then "${progress.running}" never ended`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    if (session) await call('DELETE', session).catch(() => {});
    try {
      process.kill(-driver.pid);
    } catch {
      // already gone
    }
  }
}

/** Engine name → function(url) resolving with { version, results, path, errors }. */
export const engines = {
  chromium,
  firefox: firefoxEsr,
  'firefox-esr-140': firefoxEsr140,
  webkit,
};

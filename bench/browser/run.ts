/**
 * The browser cases of `npm run bench`: the cross-thread lock hand-off (and a barrier round, with
 * bench/barrier-round.ts) in headless Chromium, where navigator.locks exists, measured with the same round trips as the Node cases (bench/ping-pong.ts,
 * served as JavaScript) on a cross-origin isolated page (SharedArrayBuffer needs it) and in its module
 * workers, against the built `dist/index.js`. Chromium is Debian's (/usr/bin/chromium, or CHROMIUM_PATH),
 * driven by playwright-core as the browser suite drives it; without it the cases are left out, with a note.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transform } from 'esbuild';
import type { Case } from '../events.js';
import { median, percentile } from '../harness.js';
import type { Variant } from '../ping-pong.js';
import type { BarrierVariant } from '../barrier-round.js';
import { missedNote, unitOf } from '../threads.js';

type Between = 'page-worker' | 'worker-worker';
interface Group {
  id: string;
  title: string;
  variants: Variant[];
  between: Between;
}
type Report = Record<string, Record<string, { times: number[]; missed: number; rounds: number }>>;

const groups: Group[] = [
  {
    id: 'browser-lock',
    title: 'page <-> module worker lock hand-off and back (two hand-offs), both awaiting',
    variants: ['SharedLock acquire <-> acquire', 'raw waitAsync <-> waitAsync', 'navigator.locks request <-> request'],
    between: 'page-worker',
  },
  {
    id: 'browser-lock-workers',
    title: 'module worker <-> module worker lock hand-off and back (two hand-offs), both awaiting',
    variants: ['SharedLock acquire <-> acquire', 'raw waitAsync <-> waitAsync', 'navigator.locks request <-> request'],
    between: 'worker-worker',
  },
  {
    id: 'browser-semaphore',
    title: 'page <-> module worker SharedSemaphore(1) permit hand-off and back (two hand-offs), both awaiting',
    variants: ['SharedSemaphore acquire <-> acquire', 'raw waitAsync <-> waitAsync'],
    between: 'page-worker',
  },
  {
    id: 'browser-lock-sync',
    title: 'module worker -> module worker lock hand-off, one way, to a thread blocked waiting',
    variants: ['SharedLock release -> acquireSync', 'raw notify -> Atomics.wait'],
    between: 'worker-worker',
  },
];

/**
 * Rounds timed together: Chromium coarsens performance.now() to 5 µs on a cross-origin isolated page,
 * about a round's time; 20 rounds take 100 µs or more.
 */
const BATCH = 20;

const page = `<!doctype html>
<meta charset="utf-8" />
<title>awaitable-event browser benchmarks</title>
<script type="module" src="/page.js"></script>
`;

/** Serves the page, its worker, ping-pong.ts as JavaScript and the library, cross-origin isolated. */
async function serve(): Promise<Server> {
  const file = (path: string) => readFile(new URL(path, import.meta.url), 'utf8');
  const pingPong = (await transform(await file('../ping-pong.ts'), { loader: 'ts', format: 'esm' })).code;
  const barrierRound = (await transform(await file('../barrier-round.ts'), { loader: 'ts', format: 'esm' })).code;
  const files: Record<string, () => Promise<string>> = {
    '/': async () => page,
    '/page.js': () => file('./page.js'),
    '/worker.js': () => file('./worker.js'),
    '/ping-pong.js': async () => pingPong,
    '/barrier-round.js': async () => barrierRound,
    '/dist/index.js': () => file('../../dist/index.js'),
    '/dist/shared.js': () => file('../../dist/shared.js'), // what the core entry shares with the Redis one
  };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = files[path];
    if (body === undefined) return res.writeHead(404).end();
    res.writeHead(200, {
      'Content-Type': path === '/' ? 'text/html' : 'text/javascript',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    res.end(await body());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/**
 * Runs every browser case, `rounds` round trips per variant in `passes` round-robin passes, and returns
 * them as cases like the Node ones (median and p99 per variant); none, with a note printed, when Chromium
 * is missing. Gives up after `limitMs` (a page that hangs fails the run, it does not stall it).
 */
export async function browserRoundTrips(rounds: number, passes: number, limitMs: number): Promise<Case[]> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    console.log(`browser cases left out: no Chromium at ${executablePath} (set CHROMIUM_PATH)`);
    return [];
  }
  // BENCH_ONLY=id,id runs only those groups, as in the Node cases.
  const only = process.env.BENCH_ONLY?.split(',');
  const chosen = groups.filter(({ id }) => only === undefined || only.includes(id));
  const { chromium } = await import('playwright-core');
  const server = await serve();
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await tab.waitForFunction(() => (globalThis as { benchReady?: boolean }).benchReady === true);
    const plan = {
      groups: chosen.map(({ id, variants, between }) => ({ id, variants, between })),
      rounds,
      passes,
      batch: BATCH,
    };
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the browser cases did not finish in ${limitMs} ms`)), limitMs);
    });
    const report = await Promise.race([
      tab.evaluate((args) => (globalThis as unknown as { bench(a: typeof args): Promise<Report> }).bench(args), plan),
      timeout,
    ]);
    const barrierVariants: BarrierVariant[] = ['SharedBarrier wait <-> wait', 'raw waitAsync barrier'];
    const barriers = await Promise.race([
      tab.evaluate(
        (args) =>
          (globalThis as unknown as { barrierBench(a: typeof args): Promise<Record<string, number[]>> }).barrierBench(
            args,
          ),
        { variants: barrierVariants, rounds, passes, batch: BATCH },
      ),
      timeout,
    ]);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    const engine = `Chromium ${browser.version().split('.')[0]}`;
    const barrierCase: Case = {
      id: 'browser-barrier',
      title: `${engine}: page <-> module worker barrier round (two parties), both awaiting`,
      unit: 'ns/round (spread: p99)',
      rows: barrierVariants.map((name) => {
        const t = barriers[name]!.sort((x, y) => x - y);
        return { name, ns: median(t) * 1000, min: t[0]! * 1000, max: percentile(t, 0.99) * 1000 };
      }),
    };
    const lockCases = chosen.map(({ id, title, variants }) => {
      const notes: string[] = [];
      const rows = variants.map((name) => {
        const { times, missed, rounds: ran } = report[id]![name]!;
        const t = times.sort((x, y) => x - y);
        if (missed > 0) notes.push(missedNote(name, missed, ran));
        return { name, ns: median(t) * 1000, min: t[0]! * 1000, max: percentile(t, 0.99) * 1000 };
      });
      return {
        id,
        title: `${engine}: ${title}`,
        unit: unitOf(variants),
        rows,
        ...(notes.length > 0 && { skipped: notes }),
      };
    });
    return [...lockCases, barrierCase];
  } finally {
    clearTimeout(timer);
    await browser.close();
    server.close();
  }
}

/**
 * `npm run bench`: every case, every contender, in one run; prints one table and the goals, and writes
 * bench/results.json. `-- --svg` also draws docs/release.svg; `-- --quick` is a smoke run with tiny
 * sizes that prints one line, judges no goals and writes nothing (npm test uses it to check that the
 * harness still runs). The browser cases (bench/browser/) run in headless Chromium, left out with a note
 * where there is none; the Redis cases (bench/redis/) on a redis-server they start, left out with a note
 * where there is none (except in CI, where that is an error).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { browserRoundTrips } from './browser/run.js';
import { type Case, aborts, memory, pingPong, release, timeouts, waitOnSetEvent } from './events.js';
import { queueHandOff, readWriteLock, weightedAcquire } from './family.js';
import { type Settings } from './harness.js';
import { conditionRoundTrip, lockHandOff, uncontended } from './locks.js';
import { LIMIT } from './peers.js';
import { FULL, QUICK, redisCases } from './redis/cases.js';
import { goals, markdown, printCase, printGoals, releaseChart, summary } from './report.js';
import { semaphoreHandOff } from './semaphores.js';
import { roundTrips } from './threads.js';
import { barrierRounds } from './barriers.js';
import { idleThreads } from './idle.js';

if (process.argv.includes('--render')) {
  // Redraws bench/results.md and docs/release.svg from the last run's bench/results.json, measuring nothing.
  const last = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8')) as {
    header: string;
    cases: Case[];
  };
  const verdicts = goals(last.cases);
  printGoals(verdicts);
  writeFileSync(new URL('./results.md', import.meta.url), markdown(last.cases, verdicts, last.header));
  writeFileSync(new URL('../docs/release.svg', import.meta.url), releaseChart(last.cases, last.header));
  writeFileSync(
    new URL('./results.json', import.meta.url),
    JSON.stringify({ ...last, goals: verdicts }, null, 2) + '\n',
  );
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const svg = process.argv.includes('--svg');
const s: Settings = quick ? { runs: 1, warmup: 0 } : { runs: 7, warmup: 2, ms: 50 };
const sizes = quick ? [100, 1_000] : [1_000, 10_000, 100_000, 1_000_000];
const scale = (n: number) => (quick ? Math.min(n, 1_000) : n);

const header = `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${new Date().toISOString().slice(0, 10)}`;
if (!quick) {
  console.log(`awaitable-event benchmarks: ${header}`);
  console.log(
    `median of ${s.runs} runs (or more, to ${s.ms} ms) after ${s.warmup} warm-up runs (or more, to ${s.ms} ms); spread = fastest..slowest run; ratio = to "${LIMIT}"\n`,
  );
}

// Peers that add a listener per waiter trip Node's MaxListenersExceededWarning: count it, don't print it.
const warnings = new Set<string>();
process.removeAllListeners('warning');
process.on('warning', (w) => warnings.add(w.name));

/**
 * `BENCH_ONLY=id,...` runs only the named cases (their ids in bench/results.json; `memory`, `threads`,
 * `redis` and `browser` name a group), prints them and judges nothing: to measure one change without
 * the whole run. The threads group reads the same variable for its own ids (bench/threads.ts).
 */
const only = process.env.BENCH_ONLY?.split(',');
const want = (id: string) =>
  only === undefined || only.includes(id) || (id === 'threads' && only.some((o) => o.startsWith('threads-')));

const cases: Case[] = [];
const add = (c: Case) => {
  cases.push(c);
  if (!quick) printCase(c);
};

if (want('set-wait')) add(await waitOnSetEvent(scale(1_000_000), s));
if (want('release')) for (const n of sizes) add(await release(n, false, s));
if (want('release-timeout')) for (const n of sizes) add(await release(n, true, s));
if (want('timeouts')) add(await timeouts(scale(100_000), s));
if (want('abort-one')) add(await aborts(scale(10_000), true, s));
if (want('abort-many')) add(await aborts(scale(10_000), false, s));
if (want('ping-pong')) add(await pingPong(scale(100_000), s));
if (want('memory')) for (const kind of ['plain', 'task', 'timeout'] as const) add(await memory(scale(100_000), kind));
// Peers add one abort listener per waiter, and removing each is a linear search: 10,000 keeps it in seconds.
if (want('memory')) add(await memory(scale(10_000), 'signal'));
if (want('lock')) add(await lockHandOff(scale(100_000), s));
if (want('condition')) add(await conditionRoundTrip(scale(100_000), s));
if (want('condition-wait')) add(await conditionRoundTrip(scale(100_000), s, true));
if (want('semaphore')) add(await semaphoreHandOff(scale(160_000), s));
if (want('weighted')) add(await weightedAcquire(scale(120_000), s));
if (want('queue')) add(await queueHandOff(scale(100_000), s));
if (want('rwlock')) add(await readWriteLock(scale(100_000), s));
if (want('lock-uncontended')) add(await uncontended(scale(1_000_000), s));
if (want('threads')) for (const c of await roundTrips(quick ? 200 : 20_000)) add(c);
if (want('threads-barrier')) add(await barrierRounds(quick ? 200 : 20_000));
if (want('threads-idle')) add(await idleThreads(quick));
// Across processes on a redis-server of the bench's own: left out, with a note, where there is none.
if (want('redis')) for (const c of await redisCases(quick ? QUICK : FULL)) add(c);
// Headless Chromium: 20,000 rounds per variant in 4 round-robin passes; the smoke run, 2 batches a variant.
if (want('browser'))
  for (const c of await browserRoundTrips(quick ? 40 : 20_000, quick ? 1 : 4, quick ? 60_000 : 1_200_000)) add(c);

if (only !== undefined) {
  console.log(`BENCH_ONLY=${only.join(',')}: ${cases.length} cases ran; no goals judged, nothing written`);
  process.exit(0);
}
if (quick) {
  // The sizes are too small for any ratio to mean anything: no table, no goals.
  console.log(`bench smoke: ${cases.length} cases ran (tiny sizes: nothing measured, no goals judged)`);
  process.exit(0);
}

console.log(`All cases, one column per contender (${header}):\n`);
console.log(summary(cases));
const verdicts = goals(cases);
printGoals(verdicts);
if (warnings.size > 0) console.log(`\nwarnings Node raised during the run (from peers): ${[...warnings].join(', ')}`);

const results = { header, node: process.version, cpu: cpus()[0]?.model, settings: s, cases, goals: verdicts };
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
writeFileSync(new URL('./results.md', import.meta.url), markdown(cases, verdicts, header));
console.log('\nwrote bench/results.json and bench/results.md');
if (svg) {
  writeFileSync(new URL('../docs/release.svg', import.meta.url), releaseChart(cases, header));
  console.log('wrote docs/release.svg');
}

/**
 * Cross-thread round trips: main thread <-> worker, and worker <-> worker; the blocking lock hand-off one
 * way, worker -> worker. Median and p99 per variant.
 */
import { Worker } from 'node:worker_threads';
import { SharedEvent, SharedLock, SharedSemaphore } from './lib.js';
import type { Case } from './events.js';
import { median, percentile } from './harness.js';
import { ALL_CORES, CORE_A, CORE_B, pinThread } from './pin.js';
import { LOCK_AT, type Rounds, type Variant, isOneWay, pingPongA } from './ping-pong.js';

const boot = new URL('../spec/workers/boot.mjs', import.meta.url);

function start(variant: Variant, role: 'a' | 'b', buffer: SharedArrayBuffer, rounds: number): Worker {
  const cores = role === 'a' ? CORE_A : CORE_B;
  return new Worker(boot, {
    workerData: { entry: '../../bench/thread-worker.ts', variant, role, buffer, rounds, cores },
  });
}

const reply = <T>(w: Worker) =>
  new Promise<T>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

/** Per-round times in µs, warm-up rounds dropped, and the rounds left out as not two hand-offs. */
async function run(
  variant: Variant,
  rounds: number,
  between: 'main-worker' | 'worker-worker',
): Promise<{ times: number[]; missed: number }> {
  if (process.env.BENCH_DEBUG) console.log(`  [${variant}]`);
  const buffer = new SharedArrayBuffer(LOCK_AT + Math.max(SharedLock.BYTES, SharedSemaphore.BYTES));
  let times: number[];
  let missed = 0;
  if (variant === 'postMessage') {
    const w = start(variant, 'b', buffer, rounds);
    let answered: () => void = () => {};
    w.on('message', () => answered());
    times = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const answer = new Promise<void>((resolve) => (answered = resolve));
      w.postMessage(r);
      await answer;
      times.push(performance.now() - t0);
    }
    await w.terminate();
  } else if (between === 'main-worker') {
    const b = start(variant, 'b', buffer, rounds);
    const done = reply(b);
    await new Promise((r) => b.once('online', r));
    ({ times, missed } = await pingPongA(variant, buffer, rounds, { SharedEvent, SharedLock, SharedSemaphore }));
    await done;
    await b.terminate();
  } else {
    const b = start(variant, 'b', buffer, rounds);
    const a = start(variant, 'a', buffer, rounds);
    const [aRounds] = await Promise.all([reply<Rounds>(a), reply(b)]);
    ({ times, missed } = aRounds);
    await Promise.all([a.terminate(), b.terminate()]);
  }
  return { times: times.slice(Math.floor(times.length / 10)).map((ms) => ms * 1000), missed };
}

/** The note for rounds left out of a lock variant (see ping-pong.ts). */
export const missedNote = (variant: string, missed: number, rounds: number) =>
  isOneWay(variant)
    ? `${variant}: ${missed} of ${rounds.toLocaleString('en')} hand-offs left out (the release found B in line but not yet asleep, and took the grant back)`
    : `${variant}: ${missed} of ${rounds.toLocaleString('en')} rounds left out (a round, or a timed batch with a round, that was not two hand-offs: the releaser took the lock back)`;

/** The unit of a cross-thread case: a round trip, or one hand-off (the one-way lock case). */
export const unitOf = (variants: readonly string[]) =>
  variants.some(isOneWay) ? 'ns/hand-off, one way (spread: p99)' : 'ns/round trip (spread: p99)';

export async function roundTrips(rounds: number): Promise<Case[]> {
  const groups: [string, string, Variant[], 'main-worker' | 'worker-worker'][] = [
    [
      'threads-async',
      'main thread <-> worker round trip, both awaiting',
      ['SharedEvent wait <-> wait', 'raw waitAsync <-> waitAsync', 'postMessage'],
      'main-worker',
    ],
    [
      'threads-lock',
      'main thread <-> worker lock hand-off and back (two hand-offs), both awaiting',
      ['SharedLock acquire <-> acquire', 'raw waitAsync <-> waitAsync'],
      'main-worker',
    ],
    [
      'threads-lock-workers',
      'worker <-> worker lock hand-off and back (two hand-offs), both awaiting',
      ['SharedLock acquire <-> acquire', 'raw waitAsync <-> waitAsync'],
      'worker-worker',
    ],
    [
      'threads-semaphore',
      'main thread <-> worker SharedSemaphore(1) permit hand-off and back (two hand-offs), both awaiting',
      ['SharedSemaphore acquire <-> acquire', 'raw waitAsync <-> waitAsync'],
      'main-worker',
    ],
    [
      'threads-semaphore-workers',
      'worker <-> worker SharedSemaphore(1) permit hand-off and back (two hand-offs), both awaiting',
      ['SharedSemaphore acquire <-> acquire', 'raw waitAsync <-> waitAsync'],
      'worker-worker',
    ],
    [
      'threads-sync-worker',
      'main thread awaiting <-> worker blocking',
      ['SharedEvent wait <-> waitSync', 'raw waitAsync <-> Atomics.wait'],
      'main-worker',
    ],
    [
      'threads-sync',
      'worker <-> worker round trip, both blocking',
      ['SharedEvent waitSync <-> waitSync', 'raw Atomics.wait <-> Atomics.wait'],
      'worker-worker',
    ],
    [
      'threads-lock-sync',
      'worker -> worker lock hand-off, one way, to a thread blocked waiting',
      ['SharedLock release -> acquireSync', 'raw notify -> Atomics.wait'],
      'worker-worker',
    ],
  ];
  const cases: Case[] = [];
  pinThread(CORE_A); // the main thread is side A of the main-worker cases (see pin.ts)
  // BENCH_ONLY=id,id runs only those groups (to measure one change without the whole run).
  const only = process.env.BENCH_ONLY?.split(',');
  for (const [id, title, variants, between] of groups.filter(([id]) => only === undefined || only.includes(id))) {
    // The variants run in turn, in 4 passes, so that a change in the machine's load (it is shared) hits
    // them alike, as in the browser cases.
    const passes = 4;
    const each = Math.ceil(rounds / passes);
    const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    const missed = new Map<Variant, number>(variants.map((v) => [v, 0]));
    for (let pass = 0; pass < passes; pass++) {
      for (const variant of variants) {
        const run1 = await run(variant, each, between);
        times.get(variant)!.push(...run1.times);
        missed.set(variant, missed.get(variant)! + run1.missed);
      }
    }
    const rows = [];
    const notes = [];
    for (const variant of variants) {
      const t = times.get(variant)!.sort((x, y) => x - y);
      rows.push({ name: variant, ns: median(t) * 1000, min: t[0]! * 1000, max: percentile(t, 0.99) * 1000 });
      if (missed.get(variant)! > 0) notes.push(missedNote(variant, missed.get(variant)!, each * passes));
    }
    cases.push({ id, title, unit: unitOf(variants), rows, ...(notes.length > 0 && { skipped: notes }) });
  }
  pinThread(ALL_CORES);
  return cases;
}

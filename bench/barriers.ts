/**
 * A barrier round across threads, main thread <-> worker (two parties, each thread pinned to its own
 * core, as the other cross-thread cases): SharedBarrier against the raw barrier of bench/barrier-round.ts.
 * Median and p99 per variant.
 */
import { Worker } from 'node:worker_threads';
import type { Case } from './events.js';
import { median, percentile } from './harness.js';
import { SharedBarrier } from './lib.js';
import { ALL_CORES, CORE_A, CORE_B, pinThread } from './pin.js';
import { BARRIER_ROUND_BYTES, type BarrierVariant, barrierSide } from './barrier-round.js';

const boot = new URL('../spec/workers/boot.mjs', import.meta.url);
const VARIANTS: BarrierVariant[] = ['SharedBarrier wait <-> wait', 'raw waitAsync barrier'];

/** Per-round times in µs of one run, warm-up rounds dropped. */
async function run(variant: BarrierVariant, rounds: number): Promise<number[]> {
  const buffer = new SharedArrayBuffer(BARRIER_ROUND_BYTES);
  const worker = new Worker(boot, {
    workerData: { entry: '../../bench/barrier-worker.ts', variant, buffer, rounds, cores: CORE_B },
  });
  const done = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise((r) => worker.once('online', r));
  const times = await barrierSide(variant, buffer, rounds, true, { SharedBarrier });
  await done;
  await worker.terminate();
  return times.slice(Math.floor(times.length / 10)).map((ms) => ms * 1000);
}

export async function barrierRounds(rounds: number): Promise<Case> {
  pinThread(CORE_A);
  // In turn, in 4 passes, so that a change in the machine's load (it is shared) hits both alike.
  const passes = 4;
  const times = new Map<BarrierVariant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let pass = 0; pass < passes; pass++) {
    for (const variant of VARIANTS) times.get(variant)!.push(...(await run(variant, Math.ceil(rounds / passes))));
  }
  pinThread(ALL_CORES);
  const rows = VARIANTS.map((name) => {
    const t = times.get(name)!.sort((x, y) => x - y);
    return { name, ns: median(t) * 1000, min: t[0]! * 1000, max: percentile(t, 0.99) * 1000 };
  });
  return {
    id: 'threads-barrier',
    title: 'main thread <-> worker barrier round (two parties), both awaiting',
    unit: 'ns/round (spread: p99)',
    rows,
  };
}

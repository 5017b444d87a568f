/**
 * One barrier round between two threads, written once per variant: both sides call `barrierSide`, side A
 * times the rounds. A round of two parties is one cross-thread wake-up: the first to arrive waits, the
 * second releases it and goes on to arrive first in the next round. The raw variant is the least a barrier
 * of awaiting threads does: a count and a generation word, the last arrival resetting the count, moving
 * the generation and notifying; the others `Atomics.waitAsync` on the generation. The same code runs in
 * Node's worker_threads (bench/barriers.ts) and, served as JavaScript, on a Chromium page and in its module
 * worker (bench/browser/): it uses nothing but the language, Atomics and `performance.now()`, and the
 * library class it is given.
 */
import type * as Lib from '../lib/index.js';

export type BarrierVariant = 'SharedBarrier wait <-> wait' | 'raw waitAsync barrier';

/** Bytes a round's buffer needs, for either variant. */
export const BARRIER_ROUND_BYTES = 512;

/** The raw barrier of two parties: words [count, generation]. */
async function rawWait(words: Int32Array): Promise<void> {
  const generation = Atomics.load(words, 1);
  if (Atomics.add(words, 0, 1) === 1) {
    Atomics.store(words, 0, 0);
    Atomics.add(words, 1, 1);
    Atomics.notify(words, 1);
    return;
  }
  while (Atomics.load(words, 1) === generation) {
    const result = Atomics.waitAsync(words, 1, generation);
    if (result.async) await result.value;
  }
}

/**
 * Goes through `rounds` rounds of a barrier of two parties in `buffer`; when `timed`, returns the time
 * of each batch of `batch` rounds per round, in ms (Chromium coarsens `performance.now()` to 5 µs).
 */
export async function barrierSide(
  variant: BarrierVariant,
  buffer: SharedArrayBuffer,
  rounds: number,
  timed: boolean,
  lib: Pick<typeof Lib, 'SharedBarrier'>,
  batch = 1,
): Promise<number[]> {
  const times: number[] = [];
  const barrier = variant === 'SharedBarrier wait <-> wait' ? new lib.SharedBarrier(2, buffer) : undefined;
  const words = new Int32Array(buffer, 0, 2);
  let t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    if (barrier !== undefined) await barrier.wait();
    else await rawWait(words);
    if (timed && r % batch === 0) {
      const t = performance.now();
      times.push((t - t0) / batch);
      t0 = t;
    }
  }
  return times;
}

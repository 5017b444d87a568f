/**
 * A worker that does what the main thread asks with one SharedBarrier at the start of its buffer (Int32
 * data words after it, see `barrierData`), answering each request `{ id, op, ... }` with `{ id, result }`
 * or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedBarrier } from '../../lib/index.js';
import { ARRIVALS, LOG, barrierData } from './barrier-layout.js';

export type Request =
  | { id: number; op: 'rounds'; parties: number; rounds: number; me: number; sync: boolean }
  | { id: number; op: 'wait'; parties: number; timeout?: number; abortAfter?: number }
  | { id: number; op: 'waitSync'; parties: number; timeout?: number }
  | { id: number; op: 'loop'; parties: number; timeout: number }
  | { id: number; op: 'rebuild'; posted: unknown };

const { buffer } = workerData as { buffer: SharedArrayBuffer };
const data = barrierData(buffer);
let barrier: SharedBarrier | undefined;
/** The barrier, built again when a test sets one up with other parties (the memory zeroed first). */
const at = (parties: number) =>
  barrier?.parties === parties ? barrier : (barrier = new SharedBarrier(parties, buffer, 0));

const rejected = (e: Error) => `rejected: ${e.name}: ${e.message}`;

/**
 * Goes through `rounds` rounds (waitSync, or wait() with and without a timeout), logging its number in
 * the slot of its arrival index of each round. Returns how many times it passed a round before every
 * party had arrived in it (ARRIVALS counts the arrivals of all rounds).
 */
async function rounds(parties: number, n: number, me: number, sync: boolean): Promise<number> {
  const b = at(parties);
  let early = 0;
  for (let round = 0; round < n; round++) {
    Atomics.add(data, ARRIVALS, 1);
    const index = sync ? b.waitSync() : await (round % 3 === 0 ? b.wait(60_000) : b.wait());
    if (Atomics.load(data, ARRIVALS) < parties * (round + 1)) early++;
    Atomics.store(data, LOG + round * parties + index, me + 1);
  }
  return early;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'rounds':
      return rounds(req.parties, req.rounds, req.me, req.sync);
    case 'wait': {
      if (req.abortAfter === undefined) return at(req.parties).wait({ timeout: req.timeout }).catch(rejected);
      const ac = new AbortController();
      const p = at(req.parties).wait({ timeout: req.timeout, signal: ac.signal });
      setTimeout(() => ac.abort(new Error('aborted in worker')), req.abortAfter);
      return p.catch(rejected);
    }
    case 'waitSync':
      try {
        return at(req.parties).waitSync(req.timeout);
      } catch (error) {
        return rejected(error as Error);
      }
    case 'rebuild': {
      // The barrier as it was posted, rebuilt with from(): the one later requests use.
      barrier = SharedBarrier.from(req.posted);
      return { parties: barrier.parties, again: SharedBarrier.from(req.posted) === barrier };
    }
    case 'loop': {
      // Meets the others round after round until the barrier breaks.
      let passed = 0;
      try {
        for (;;) {
          await at(req.parties).wait(req.timeout);
          passed++;
        }
      } catch (error) {
        return { passed, error: (error as Error).message };
      }
    }
  }
}

parentPort!.on('message', (req: Request) => {
  handle(req).then(
    (result) => parentPort!.postMessage({ id: req.id, result }),
    (error: Error) => parentPort!.postMessage({ id: req.id, error: `${error.name}: ${error.message}` }),
  );
});
parentPort!.postMessage({ ready: true });
